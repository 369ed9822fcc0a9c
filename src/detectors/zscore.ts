import type { DetectorModel } from './detector.ts';
import { fmt, isUsableValue } from './format.ts';
import { ringPush } from './ring.ts';
import { checkNumber, checkNumbers, checkObject, DetectorStateError } from './state-check.ts';
import { type DeviationText, deviationVerdict, floorScale, ignoredVerdict, noBaselineVerdict, statisticalParams } from './stats.ts';

/**
 * ZSCORE: rolling mean and standard deviation of the last `window` values,
 * O(1) per value through running sums over a ring buffer. The sums are of
 * (x - shift), with `shift` near the mean, so large offsets do not cancel
 * precision away; every `window` updates they are recomputed from the
 * buffer (and the shift re-centred) to stop floating-point drift.
 */
export interface ZScoreState {
  /** Values observed in the series. */
  n: number;
  /** Ring buffer of the last `window` values. */
  buf: number[];
  head: number;
  shift: number;
  /** Sum of (x - shift) over buf. */
  sum: number;
  /** Sum of (x - shift)^2 over buf. */
  sumSq: number;
  /** Updates since the sums were last recomputed. */
  since: number;
}

const ZSCORE_TEXT: DeviationText = {
  baseline: (d) => `the ${d.count}-event mean ${fmt(d.expected)}`,
  detail: (d) => `sd ${fmt(d.spread)}`,
};

export function createZScore(p: Record<string, unknown>, field: string): DetectorModel<ZScoreState> {
  const window = p.window as number;
  const sp = statisticalParams(p);

  function recompute(s: ZScoreState): void {
    const m = s.buf.length;
    let total = 0;
    for (const x of s.buf) total += x;
    const shift = m > 0 ? total / m : 0;
    let sum = 0;
    let sumSq = 0;
    for (const x of s.buf) {
      const d = x - shift;
      sum += d;
      sumSq += d * d;
    }
    s.shift = shift;
    s.sum = sum;
    s.sumSq = sumSq;
    s.since = 0;
  }

  return {
    kind: 'ZSCORE',
    newState: () => ({ n: 0, buf: [], head: 0, shift: 0, sum: 0, sumSq: 0, since: 0 }),
    ready: (s) => s.n >= sp.warmup,
    tick: () => null,

    observe(s, input) {
      if (!isUsableValue(input)) return ignoredVerdict(field, input);
      const value = input + 0;
      const m = s.buf.length;
      let verdict;
      if (m === 0) {
        verdict = noBaselineVerdict(field, value, 'first value of the series, no baseline yet');
        s.shift = value;
      } else {
        const mean = s.shift + s.sum / m;
        const variance = m > 1 ? Math.max(0, (s.sumSq - (s.sum * s.sum) / m) / (m - 1)) : 0;
        const sd = Math.sqrt(variance);
        verdict = deviationVerdict({
          field,
          value,
          expected: mean,
          scale: floorScale(sd, mean),
          params: sp,
          ready: s.n >= sp.warmup,
          seen: s.n,
          warmupNeeded: sp.warmup,
          unit: 'sigma',
          text: ZSCORE_TEXT,
          count: m,
          spread: sd,
        });
      }

      const d = value - s.shift;
      const old = ringPush(s, window, value);
      if (old === undefined) {
        s.sum += d;
        s.sumSq += d * d;
      } else {
        const o = old - s.shift;
        s.sum += d - o;
        s.sumSq += d * d - o * o;
      }
      s.n += 1;
      s.since += 1;
      if (s.since >= window) recompute(s);
      return verdict;
    },

    restore(saved) {
      const o = checkObject('ZSCORE', saved);
      const buf = checkNumbers('ZSCORE', o, 'buf', window);
      const s: ZScoreState = {
        n: checkNumber('ZSCORE', o, 'n', { integer: true, min: 0 }),
        buf,
        head: checkNumber('ZSCORE', o, 'head', { integer: true, min: 0, max: Math.max(0, window - 1) }),
        shift: checkNumber('ZSCORE', o, 'shift'),
        sum: checkNumber('ZSCORE', o, 'sum'),
        sumSq: checkNumber('ZSCORE', o, 'sumSq'),
        since: checkNumber('ZSCORE', o, 'since', { integer: true, min: 0 }),
      };
      if (s.buf.length < window && s.head !== 0) throw new DetectorStateError('ZSCORE', 'head must be 0 until the window is full');
      return s;
    },
  };
}
