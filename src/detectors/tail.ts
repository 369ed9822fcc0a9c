/**
 * Gaussian tail probabilities for the LIKELIHOOD detector, in log10 so the
 * far tail (1e-12 and beyond) keeps its precision. Pure functions.
 */

const LN10 = Math.log(10);

/**
 * ln erfc(x) for x >= 0 (Numerical Recipes' erfcc in log form: fractional
 * error of erfc below 1.2e-7 everywhere, so the log is good to ~5e-8 even in
 * the far tail where erfc itself underflows).
 */
function lnErfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -x * x -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) + poly;
}

/**
 * -log10 of the upper tail Q(z) = P(Z > z) of a standard normal for z > 0:
 * 1.3 at z = 1.96, 5 near z = 4.27, 10 near z = 6.36; 0 for z <= 0 (and NaN),
 * where the tail is at least one half (only rises of a score are surprising).
 */
export function surprise(z: number): number {
  if (!(z > 0)) return 0;
  // Q(z) = erfc(z / sqrt 2) / 2
  return -(lnErfc(z / Math.SQRT2) - Math.LN2) / LN10;
}
