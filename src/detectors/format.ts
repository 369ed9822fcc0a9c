/**
 * Number handling shared by the detectors: score capping and the short
 * number rendering used in explanations. Pure functions.
 */

/** Largest score a detector reports; keeps scores finite when a baseline has no spread at all. */
export const MAX_SCORE = 1e6;

/**
 * Largest magnitude a statistical detector accepts. Squares of larger values
 * could overflow the running sums to Infinity, which JSON cannot carry.
 */
export const MAX_ABS_VALUE = 1e150;

/** True when `value` can enter a statistical baseline (finite and at most MAX_ABS_VALUE in magnitude). */
export function isUsableValue(value: number): boolean {
  return Number.isFinite(value) && Math.abs(value) <= MAX_ABS_VALUE;
}

/** The score clamped to [0, MAX_SCORE]; NaN becomes 0. */
export function capScore(score: number): number {
  if (!(score > 0)) return 0;
  return score > MAX_SCORE ? MAX_SCORE : score;
}

/** -0 as 0, so a verdict is the same before and after a JSON round trip of the state. */
export function plainZero(x: number): number {
  return x === 0 ? 0 : x;
}

/**
 * A number for people: `digits` significant digits, no trailing zeros,
 * exponent notation for very large or very small magnitudes.
 * fmt(912) = "912", fmt(140.2345) = "140.2", fmt(6.1234, 2) = "6.1", fmt(1.5e9) = "1.5e9".
 */
export function fmt(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-4) {
    const [mantissa = '', exponent = ''] = x.toExponential(Math.max(0, digits - 1)).split('e');
    const m = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
    return `${m}e${exponent.replace('+', '')}`;
  }
  // Rounding by arithmetic (toPrecision is several times slower, and this runs for every value):
  // an integer divided by an exact power of ten is the double nearest the decimal, so String() prints it short.
  const decimals = digits - 1 - Math.floor(Math.log10(a));
  const rounded =
    decimals > 0 ? Math.round(a * POW10[decimals]!) / POW10[decimals]! : Math.round(a / POW10[-decimals]!) * POW10[-decimals]!;
  return String(x < 0 ? -rounded : rounded);
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
