import type { DetectorModel } from './detector.ts';
import { fmt, isUsableValue } from './format.ts';
import { checkNumber, checkObject } from './state-check.ts';
import { type DeviationText, deviationVerdict, floorScale, ignoredVerdict, noBaselineVerdict, statisticalParams } from './stats.ts';

/**
 * EWMA: exponentially weighted mean and variance with weight `alpha`
 * (incremental form: diff = x - mean; mean += alpha*diff;
 * var = (1 - alpha)*(var + alpha*diff^2)). The mean starts at the first
 * value and the variance at 0; the variance is divided by the weight it has
 * gathered so far (1 - (1 - alpha)^(n - 1), kept incrementally in `weight`),
 * so it is not biased low early on.
 */
export interface EwmaState {
  n: number;
  mean: number;
  variance: number;
  /** Weight the variance has gathered: 0 after the first value, tending to 1. */
  weight: number;
}

export function createEwma(p: Record<string, unknown>, field: string): DetectorModel<EwmaState> {
  const alpha = p.alpha as number;
  const sp = statisticalParams(p);
  const text: DeviationText = {
    baseline: (d) => `the moving average ${fmt(d.expected)}`,
    detail: (d) => `sd ${fmt(d.spread)}, alpha ${fmt(alpha)}`,
  };

  return {
    kind: 'EWMA',
    newState: () => ({ n: 0, mean: 0, variance: 0, weight: 0 }),
    ready: (s) => s.n >= sp.warmup,
    tick: () => null,

    observe(s, input) {
      if (!isUsableValue(input)) return ignoredVerdict(field, input);
      const value = input + 0;
      if (s.n === 0) {
        s.n = 1;
        s.mean = value;
        s.variance = 0;
        s.weight = 0;
        return noBaselineVerdict(field, value, 'first value of the series, no baseline yet');
      }
      const sd = s.weight > 0 ? Math.sqrt(s.variance / s.weight) : 0;
      const verdict = deviationVerdict({
        field,
        value,
        expected: s.mean,
        scale: floorScale(sd, s.mean),
        params: sp,
        ready: s.n >= sp.warmup,
        seen: s.n,
        warmupNeeded: sp.warmup,
        unit: 'sigma',
        text,
        count: s.n,
        spread: sd,
      });

      const diff = value - s.mean;
      const incr = alpha * diff;
      s.mean += incr;
      s.variance = (1 - alpha) * (s.variance + diff * incr);
      s.weight = (1 - alpha) * s.weight + alpha;
      s.n += 1;
      return verdict;
    },

    restore(saved) {
      const o = checkObject('EWMA', saved);
      return {
        n: checkNumber('EWMA', o, 'n', { integer: true, min: 0 }),
        mean: checkNumber('EWMA', o, 'mean'),
        variance: checkNumber('EWMA', o, 'variance', { min: 0 }),
        weight: checkNumber('EWMA', o, 'weight', { min: 0, max: 1 + 1e-9 }),
      };
    },
  };
}
