import { checkNumber, checkNumbers, DetectorStateError, type Plain } from './state-check.ts';

/**
 * A streaming quantile: the P-squared algorithm (Jain and Chlamtac 1985).
 * Five markers hold the minimum, the p/2, p and (1+p)/2 quantiles and the
 * maximum; each new value moves the marker positions by one, and a marker
 * that strays from its desired position by a whole step is moved and its
 * height adjusted by a piecewise-parabolic (else linear) fit. O(1) time,
 * eleven numbers, deterministic; no sample is kept.
 *
 * The desired positions are not stored: after `count` values they are
 * 1 + (count - 1) * f with f = 0, p/2, p, (1+p)/2, 1, computed afresh each
 * time, which is exactly what the textbook's running increments add up to
 * and cannot accumulate rounding.
 */
export interface QuantileState {
  /** Marker heights; the raw values, ascending, until there are five. */
  qHeights: number[];
  /** Marker positions (1-based ranks); empty until there are five values. */
  qPositions: number[];
  /** Values seen. */
  qCount: number;
}

export const QUANTILE_STATE_KEYS = ['qHeights', 'qPositions', 'qCount'] as const;

export function newQuantileState(): QuantileState {
  return { qHeights: [], qPositions: [], qCount: 0 };
}

/** Adds `x` to the estimator of the `p` quantile (0 < p < 1). */
export function updateQuantile(s: QuantileState, p: number, x: number): void {
  const q = s.qHeights;
  s.qCount += 1;
  if (s.qCount <= 5) {
    // Insertion into the (at most four) sorted values.
    let i = q.length;
    q.push(x);
    while (i > 0 && (q[i - 1] as number) > x) {
      q[i] = q[i - 1] as number;
      i -= 1;
    }
    q[i] = x;
    if (s.qCount === 5) s.qPositions = [1, 2, 3, 4, 5];
    return;
  }
  const n = s.qPositions;
  // The cell k with q[k] <= x < q[k + 1]; the extremes are stretched.
  let k: number;
  if (x < (q[0] as number)) {
    q[0] = x;
    k = 0;
  } else if (x >= (q[4] as number)) {
    q[4] = x;
    k = 3;
  } else {
    k = 0;
    while (k < 3 && x >= (q[k + 1] as number)) k += 1;
  }
  for (let i = k + 1; i < 5; i++) n[i] = (n[i] as number) + 1;

  const m = s.qCount - 1;
  for (let i = 1; i <= 3; i++) {
    const desired = 1 + m * (i === 1 ? p / 2 : i === 2 ? p : (1 + p) / 2);
    const ni = n[i] as number;
    const d = desired - ni;
    const after = (n[i + 1] as number) - ni;
    const before = (n[i - 1] as number) - ni;
    if ((d >= 1 && after > 1) || (d <= -1 && before < -1)) {
      const step = d >= 0 ? 1 : -1;
      const qi = q[i] as number;
      const qPrev = q[i - 1] as number;
      const qNext = q[i + 1] as number;
      const nPrev = n[i - 1] as number;
      const nNext = n[i + 1] as number;
      // Piecewise-parabolic prediction.
      const parabolic =
        qi +
        (step / (nNext - nPrev)) * ((ni - nPrev + step) * ((qNext - qi) / (nNext - ni)) + (nNext - ni - step) * ((qi - qPrev) / (ni - nPrev)));
      if (qPrev < parabolic && parabolic < qNext) {
        q[i] = parabolic;
      } else {
        // Linear, towards the neighbour in the direction of the move.
        const qn = step > 0 ? qNext : qPrev;
        const nn = step > 0 ? nNext : nPrev;
        q[i] = qi + (step * (qn - qi)) / (nn - ni);
      }
      n[i] = ni + step;
    }
  }
}

/**
 * The current estimate of the quantile, or null with no value yet. With fewer
 * than five values, the nearest-rank value of those seen.
 */
export function quantileEstimate(s: QuantileState, p: number): number | null {
  const q = s.qHeights;
  if (q.length === 0) return null;
  if (s.qCount < 5) return q[Math.min(q.length - 1, Math.max(0, Math.ceil(p * q.length) - 1))] as number;
  return q[2] as number;
}

/** The estimator's fields read back from a checkpoint; none at all starts it afresh. */
export function restoreQuantile(kind: string, o: Plain): QuantileState {
  if (QUANTILE_STATE_KEYS.every((key) => o[key] === undefined)) return newQuantileState();
  const s: QuantileState = {
    qHeights: checkNumbers(kind, o, 'qHeights', 5),
    qPositions: checkNumbers(kind, o, 'qPositions', 5),
    qCount: checkNumber(kind, o, 'qCount', { integer: true, min: 0 }),
  };
  const { qHeights: q, qPositions: n, qCount: count } = s;
  if (q.length !== Math.min(count, 5)) throw new DetectorStateError(kind, 'qHeights does not match qCount');
  if (n.length !== (count >= 5 ? 5 : 0)) throw new DetectorStateError(kind, 'qPositions does not match qCount');
  for (let i = 1; i < q.length; i++) {
    if ((q[i - 1] as number) > (q[i] as number)) throw new DetectorStateError(kind, 'qHeights is not ascending');
  }
  if (count >= 5) {
    if (n[0] !== 1 || n[4] !== count) throw new DetectorStateError(kind, 'qPositions must run from 1 to qCount');
    for (let i = 1; i < 5; i++) {
      const a = n[i - 1] as number;
      const b = n[i] as number;
      if (!Number.isInteger(b) || !(b > a)) throw new DetectorStateError(kind, 'qPositions must be increasing integers');
    }
  }
  return s;
}
