import type { DetectorModel, Verdict } from './detector.ts';
import { capScore, isUsableValue } from './format.ts';
import { observeChannels } from './likelihood-channels.ts';
import { newContextState, type ContextSettings, type ContextVerdict } from './likelihood-context.ts';
import { likelihoodParams, restoreLikelihood, SCALES, WEEK_MS, WEEK_SLOTS, type LikelihoodState } from './likelihood-state.ts';
import { LikelihoodVerdict, type LikelihoodWords } from './likelihood-verdict.ts';
import { ignoredVerdict } from './stats.ts';
import { surprise } from './tail.ts';

/**
 * LIKELIHOOD: how unlikely the recent behaviour of a series is, given its
 * own history, in the spirit of Numenta's anomaly likelihood. Per event, O(1)
 * time and a fixed amount of state per series:
 *
 * 1. Raw deviation scores on several time scales, each a fraction of the
 *    series' range (the given inputMin..inputMax, else the range seen so
 *    far), clipped to [0, 1]:
 *      step  |x - previous value|           (spikes, sudden jumps)
 *      fast  |x - fast moving average|      (short bursts)
 *      slow  |x - slow moving average|      (level shifts, drift)
 *      vol   |step - its slow average|      (changes in volatility)
 *      weekly |x - the average of its hour of the week (UTC)|
 *                                          (broken daily or weekly patterns)
 * 2. Likelihood: for each scale, the mean of its last `averaging` raw
 *    scores is compared with the long-run mean and spread of that average
 *    (exponentially weighted over about `memory` events, spread floored at
 *    `minSpread`); the score is the surprise -log10 P(Z > z) of the largest
 *    scale (4 = one chance in 10,000, the default threshold).
 * 3. Novelty: a value beyond the range seen so far by more than `novelty`
 *    times the range scores at least the threshold, more the further out.
 * 4. Context channels (likelihood-channels.ts, the `channels` setting):
 *    SEASON, FLAT and DRIFT (likelihood-context.ts) and SEQUENCE
 *    (likelihood-sequence.ts), on the same surprise scale.
 * 5. Quiet: after an alert the detector stays silent (score 0) for `quiet`
 *    events; it keeps learning meanwhile.
 */

export function createLikelihood(p: Record<string, unknown>, field: string): DetectorModel<LikelihoodState> {
  const lp = likelihoodParams(p);
  const { threshold, warmup, averaging, minSpread, novelty, quiet, fastAlpha, slowAlpha, seasonAlpha } = lp;
  const longAlpha = 2 / (lp.memory + 1);
  const givenRange = lp.inputMin !== null && lp.inputMax !== null && lp.inputMax > lp.inputMin ? lp.inputMax - lp.inputMin : null;
  const minVar = minSpread * minSpread;
  const raw = new Float64Array(SCALES);
  const context: ContextSettings = { channels: lp.channels, averaging, longAlpha, minVar, threshold, warmup };
  const words: LikelihoodWords = { field, threshold, warmup, novelty, quiet };

  const newState = (): LikelihoodState => ({
    n: 0,
    lo: 0,
    hi: 0,
    prev: 0,
    fast: 0,
    slow: 0,
    stepMean: 0,
    ring: new Array<number>(SCALES * averaging).fill(0),
    head: 0,
    mean: new Array<number>(SCALES).fill(0),
    variance: new Array<number>(SCALES).fill(0),
    weight: 0,
    quiet: 0,
    week: new Array<number>(WEEK_SLOTS).fill(0),
    weekN: new Array<number>(WEEK_SLOTS).fill(0),
    context: newContextState(averaging),
  });

  return {
    kind: 'LIKELIHOOD',
    newState,
    ready: (s) => s.n >= warmup,
    tick: () => null,

    observe(s, input, time): Verdict {
      if (!isUsableValue(input)) return ignoredVerdict(field, input);
      const x = input + 0;
      if (s.n === 0) {
        s.n = 1;
        s.lo = x;
        s.hi = x;
        s.prev = x;
        s.fast = x;
        s.slow = x;
        return new LikelihoodVerdict(words, 0, false, null, 'first', x);
      }
      const ready = s.n >= warmup;
      const seenRange = s.hi - s.lo;
      const range = Math.max(givenRange ?? seenRange, 1e-9, 1e-9 * Math.abs(x));

      // 1. Raw scores on each scale.
      const step = Math.abs(x - s.prev);
      raw[0] = step / range;
      raw[1] = Math.abs(x - s.fast) / range;
      raw[2] = Math.abs(x - s.slow) / range;
      raw[3] = Math.abs(step - s.stepMean) / range;
      const timed = Number.isFinite(time);
      const weekSlot = timed ? Math.floor(mod(time, WEEK_MS) / (WEEK_MS / WEEK_SLOTS)) : 0;
      raw[4] = timed && (s.weekN[weekSlot] as number) > 0 ? Math.abs(x - (s.week[weekSlot] as number)) / range : 0;

      // 2. Likelihood of each scale's short average against its long-run distribution.
      const slot = s.head;
      s.head = slot + 1 === averaging ? 0 : slot + 1;
      const filled = Math.min(s.n, averaging);
      let best = 0;
      let bestScale = 0;
      let bestZ = 0;
      const w = s.weight;
      for (let c = 0; c < SCALES; c++) {
        const r = Math.min(1, raw[c] as number);
        const base = c * averaging;
        s.ring[base + slot] = r;
        let sum = 0;
        for (let k = 0; k < filled; k++) sum += s.ring[base + ((slot - k + averaging) % averaging)] as number;
        const avg = sum / filled;
        const m = s.mean[c] as number;
        const v = w > 0 ? (s.variance[c] as number) / w : 0;
        const sd = Math.sqrt(Math.max(v, minVar));
        const z = (avg - m) / sd;
        const sc = surprise(z);
        if (sc > best) {
          best = sc;
          bestScale = c;
          bestZ = z;
        }
        // Long-run statistics (incremental EWMA, started at the first average).
        if (s.n === 1) {
          s.mean[c] = avg;
        } else {
          const diff = avg - m;
          const incr = longAlpha * diff;
          s.mean[c] = m + incr;
          s.variance[c] = (1 - longAlpha) * ((s.variance[c] as number) + diff * incr);
        }
      }
      if (s.n > 1) s.weight = (1 - longAlpha) * w + longAlpha;

      // 3. Novelty: beyond the range seen so far.
      const margin = novelty * range;
      const excess = x > s.hi + margin ? x - s.hi - margin : x < s.lo - margin ? s.lo - margin - x : 0;
      const beyond = seenRange > 0 && excess > 0;
      let score = best;
      if (beyond) score = Math.max(score, threshold * (1 + excess / range));
      // 4. Context channels, on the values learnt so far.
      let ctx: ContextVerdict | null = null;
      if (context.channels.length > 0) {
        ctx = observeChannels(s, context, x, time, range, step, givenRange === null ? null : lp.inputMin);
        if (!beyond && ctx.score > score) score = ctx.score;
        else ctx = null;
      }

      // Learn the value.
      const seenLo = s.lo;
      const seenHi = s.hi;
      if (x < s.lo) s.lo = x;
      if (x > s.hi) s.hi = x;
      s.stepMean += slowAlpha * (step - s.stepMean);
      s.fast += fastAlpha * (x - s.fast);
      s.slow += slowAlpha * (x - s.slow);
      s.prev = x;
      s.n += 1;
      if (timed) {
        learnSlot(s.week, s.weekN, weekSlot, x, seasonAlpha);
      }

      // 5. Quiet after an alert.
      score = capScore(score);
      if (!ready) return new LikelihoodVerdict(words, score, false, s.slow, 'warming', x, s.n - 1);
      if (s.quiet > 0) {
        s.quiet -= 1;
        return new LikelihoodVerdict(words, 0, false, s.slow, 'quiet', x, s.quiet);
      }
      const anomalous = score >= threshold;
      if (anomalous) s.quiet = quiet;
      if (ctx !== null) return new LikelihoodVerdict(words, score, anomalous, s.slow, 'context', x, 0, 0, 0, 0, ctx);
      if (beyond) return new LikelihoodVerdict(words, score, anomalous, s.slow, 'beyond', x, seenLo, seenHi, excess / range);
      return new LikelihoodVerdict(words, score, anomalous, s.slow, 'scale', x, filled, bestScale, bestZ, best);
    },

    restore: (saved) => restoreLikelihood(saved, averaging, quiet),
  };
}

function mod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}

/** Moves a slot's average toward x: a plain mean over the slot's first 1/alpha values, then exponentially weighted. */
function learnSlot(mean: number[], count: number[], slot: number, x: number, alpha: number): void {
  const n = count[slot] as number;
  const a = Math.max(alpha, 1 / (n + 1));
  mean[slot] = n === 0 ? x : (mean[slot] as number) + a * (x - (mean[slot] as number));
  if (a > alpha) count[slot] = n + 1;
}
