import type { DetectorModel } from './detector.ts';
import { fmt, isUsableValue } from './format.ts';
import { ringPush } from './ring.ts';
import { sortedInsert, sortedMad, sortedMedian, sortedRemove } from './sorted.ts';
import { checkNumber, checkNumbers, checkObject, DetectorStateError } from './state-check.ts';
import { type DeviationText, deviationVerdict, floorScale, ignoredVerdict, noBaselineVerdict, statisticalParams } from './stats.ts';

/** MAD of a normal distribution times this is its standard deviation. */
export const MAD_TO_SIGMA = 1.4826;

/**
 * The spread (in sigmas of a normal) of a sorted window whose MAD is `mad`.
 * When more than half the window holds one value the MAD is 0 and every
 * change would score the maximum; the spread then comes from wider quantile
 * ranges: q10..q90 (2.5631 sigma wide for a normal), else the whole window
 * taken as 6 sigma wide. Only a constant window gives 0 (floored by the
 * caller: then any change scores the maximum).
 */
export function robustSpread(sorted: readonly number[], mad: number): number {
  if (mad > 0) return MAD_TO_SIGMA * mad;
  const last = sorted.length - 1;
  const between = (p: number): number => (sorted[Math.ceil(last * (1 - p))] as number) - (sorted[Math.floor(last * p)] as number);
  const decile = between(0.1);
  if (decile > 0) return decile / 2.5631;
  return ((sorted[last] as number) - (sorted[0] as number)) / 6;
}

/**
 * MAD: rolling median and median absolute deviation of the last `window`
 * values. A ring buffer remembers arrival order; a sorted copy of the same
 * values gives the median directly and the MAD by binary search
 * (O(log w) lookups; insert/remove are a binary search plus one array
 * splice, a memmove of at most `window` numbers).
 */
export interface MadState {
  n: number;
  buf: number[];
  head: number;
  /** The values of buf, ascending. */
  sorted: number[];
}

/** With a MAD of 0 the score divides by the spread of the window's quantiles instead (robustSpread), floored. */
const MAD_TEXT: DeviationText = {
  baseline: (d) => `the ${d.count}-event median ${fmt(d.expected)}`,
  detail: (d) => (d.spread > 0 ? `MAD ${fmt(d.spread)}` : `MAD 0, spread ${fmt(d.scale)} from the window's quantiles`),
};

export function createMad(p: Record<string, unknown>, field: string): DetectorModel<MadState> {
  const window = p.window as number;
  const sp = statisticalParams(p);

  return {
    kind: 'MAD',
    newState: () => ({ n: 0, buf: [], head: 0, sorted: [] }),
    ready: (s) => s.n >= sp.warmup,
    tick: () => null,

    observe(s, input) {
      if (!isUsableValue(input)) return ignoredVerdict(field, input);
      const value = input + 0;
      const m = s.sorted.length;
      let verdict;
      if (m === 0) {
        verdict = noBaselineVerdict(field, value, 'first value of the series, no baseline yet');
      } else {
        const median = sortedMedian(s.sorted);
        const mad = sortedMad(s.sorted, median);
        const spread = robustSpread(s.sorted, mad);
        verdict = deviationVerdict({
          field,
          value,
          expected: median,
          scale: floorScale(spread, median),
          params: sp,
          ready: s.n >= sp.warmup,
          seen: s.n,
          warmupNeeded: sp.warmup,
          unit: 'robust sigma',
          text: MAD_TEXT,
          count: m,
          spread: mad,
        });
      }

      const old = ringPush(s, window, value);
      if (old !== undefined) sortedRemove(s.sorted, old);
      sortedInsert(s.sorted, value);
      s.n += 1;
      return verdict;
    },

    restore(saved) {
      const o = checkObject('MAD', saved);
      const s: MadState = {
        n: checkNumber('MAD', o, 'n', { integer: true, min: 0 }),
        buf: checkNumbers('MAD', o, 'buf', window),
        head: checkNumber('MAD', o, 'head', { integer: true, min: 0, max: Math.max(0, window - 1) }),
        sorted: checkNumbers('MAD', o, 'sorted', window),
      };
      if (s.sorted.length !== s.buf.length) throw new DetectorStateError('MAD', 'sorted and buf differ in length');
      for (let i = 1; i < s.sorted.length; i++) {
        if ((s.sorted[i - 1] as number) > (s.sorted[i] as number)) throw new DetectorStateError('MAD', 'sorted is not ascending');
      }
      return s;
    },
  };
}
