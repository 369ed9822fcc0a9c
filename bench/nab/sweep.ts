import {
  falsePositiveValue,
  NabScoringError,
  NAB_PROFILES,
  normalise,
  probationRows,
  scoreCorpus,
  truePositiveValue,
  type Profile,
  type ProfileResult,
  type RowWindow,
  type ScoredSeries,
} from './scorer.ts';

/**
 * NAB's rule 9, the threshold sweep: one threshold per detector and profile
 * for the whole corpus, the one with the best corpus sum over every distinct
 * score of a scored row. Pure, like scorer.ts.
 */

/**
 * Scored rows of a corpus, flattened for the sweep: per row its score, its
 * window (a corpus-wide index, or -1 outside every window) and its unweighted
 * value (truePositiveValue inside a window, falsePositiveValue outside).
 * Built once per detector; profiles only change the weights.
 */
export interface SweepRows {
  count: number;
  windows: number;
  score: Float64Array;
  window: Int32Array;
  value: Float64Array;
}

export function sweepRows(series: readonly ScoredSeries[]): SweepRows {
  let count = 0;
  for (const s of series) count += Math.max(0, s.scores.length - probationRows(s.scores.length));
  const score = new Float64Array(count);
  const window = new Int32Array(count);
  const value = new Float64Array(count);
  let r = 0;
  let windowBase = 0;
  for (const s of series) {
    const n = s.scores.length;
    const ws = [...s.windows].sort((x, y) => x.start - y.start);
    const p = probationRows(n);
    let k = 0;
    let previous: RowWindow | undefined;
    for (let i = p; i < n; i++, r++) {
      while (k < ws.length && (ws[k] as RowWindow).end < i) previous = ws[k++];
      const w = ws[k];
      const sc = s.scores[i] as number;
      if (Number.isNaN(sc)) throw new NabScoringError(`${s.name}: row ${i} has no score (NaN)`);
      score[r] = sc;
      if (w !== undefined && i >= w.start) {
        window[r] = windowBase + k;
        value[r] = truePositiveValue(i, w);
      } else {
        window[r] = -1;
        value[r] = falsePositiveValue(i, previous);
      }
    }
    windowBase += ws.length;
  }
  return { count, windows: windowBase, score, window, value };
}

/** The threshold a sweep chose for one profile, and the raw corpus score there. */
export interface SweepChoice {
  profile: string;
  /** +Infinity: no detections at all is best (or ties with the best). */
  threshold: number;
  raw: number;
  normalised: number;
}

/**
 * Rule 9 for several profiles in one pass: lowers the threshold through
 * every distinct score of a scored row, from the highest down, updating the
 * corpus sum incrementally (a false positive adds its own cost, a window
 * takes the best value of its detections, which is its earliest), and keeps
 * per profile the threshold with the best sum; on a tie the higher threshold
 * (the first met), with "no detections" (+Infinity) the highest of all.
 * O(R log R) for R scored rows.
 */
export function sweepThresholds(rows: SweepRows, profiles: readonly Profile[]): SweepChoice[] {
  const { count, score, window, value } = rows;
  const order = new Uint32Array(count);
  for (let r = 0; r < count; r++) order[r] = r;
  order.sort((a, b) => (score[b] as number) - (score[a] as number));

  const np = profiles.length;
  const tp = profiles.map((p) => p.weights.tp);
  const fp = profiles.map((p) => p.weights.fp);
  const fn = profiles.map((p) => p.weights.fn);
  const sum = profiles.map((p) => 0 - rows.windows * p.weights.fn);
  const best = [...sum];
  const bestT = profiles.map(() => Number.POSITIVE_INFINITY);
  const bestInWindow = new Float64Array(rows.windows).fill(Number.NEGATIVE_INFINITY);

  let g = 0;
  while (g < count) {
    const t = score[order[g] as number] as number;
    let h = g;
    let changed = false;
    for (; h < count && score[order[h] as number] === t; h++) {
      const r = order[h] as number;
      const v = value[r] as number;
      const w = window[r] as number;
      if (w < 0) {
        for (let q = 0; q < np; q++) sum[q] = (sum[q] as number) + (fp[q] as number) * v;
        changed = true;
      } else {
        const old = bestInWindow[w] as number;
        if (v > old) {
          for (let q = 0; q < np; q++) {
            const before = old === Number.NEGATIVE_INFINITY ? -(fn[q] as number) : (tp[q] as number) * old;
            sum[q] = (sum[q] as number) + (tp[q] as number) * v - before;
          }
          bestInWindow[w] = v;
          changed = true;
        }
      }
    }
    if (changed) {
      for (let q = 0; q < np; q++) {
        if ((sum[q] as number) > (best[q] as number)) {
          best[q] = sum[q] as number;
          bestT[q] = t;
        }
      }
    }
    g = h;
  }
  return profiles.map((p, q) => ({
    profile: p.name,
    threshold: bestT[q] as number,
    raw: best[q] as number,
    normalised: normalise(best[q] as number, rows.windows, p.weights),
  }));
}

/**
 * The NAB score of a detector: per profile the best threshold (rule 9) and
 * the corpus score there, recomputed directly file by file (scoreFile), so
 * the reported figures never rest on the sweep's running sums.
 */
export function scoreDetector(series: readonly ScoredSeries[], profiles: readonly Profile[] = NAB_PROFILES): ProfileResult[] {
  const choices = sweepThresholds(sweepRows(series), profiles);
  return profiles.map((p, q) => scoreCorpus(series, (choices[q] as SweepChoice).threshold, p));
}

