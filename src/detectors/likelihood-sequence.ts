import { surprise } from './tail.ts';
import { checkNumber, checkNumbers, checkObject, DetectorStateError } from './state-check.ts';

/**
 * SEQUENCE, a learned sequence channel of LIKELIHOOD in the spirit of HTM
 * and ARTime: which move a series makes from where it is. The value is
 * quantised into FINE_BINS bins of the range; each event is a move (the
 * change of bin since the previous value, clipped to +-MAX_MOVE) made from
 * a level (the previous value's bin, coarsened to LEVELS levels), and the
 * channel learns how often each move follows each level. The raw score of
 * an event is how unexpected its move was from that level, -log10 of its
 * learnt probability as a share of RAW_SCALE (clipped to 1); its short
 * average is judged against its long-run distribution like the other
 * scales, so a run of moves the series does not usually make there (a burst
 * of jumps where it creeps, a creep where it jumps, a pattern in the wrong
 * order, a series that stops moving) scores even when no single value is
 * far out.
 *
 * Memory: a level's counts are halved when they hold ROW_MEMORY moves, so
 * the statistics follow a changing series. O(1) per event (a halving costs
 * MOVES and happens once per ROW_MEMORY / 2 events of that level) and a
 * fixed state of sequenceNumbers(averaging) numbers.
 */

export const FINE_BINS = 64;
export const LEVELS = 16;
export const MAX_MOVE = 4;
/** Moves -MAX_MOVE..MAX_MOVE, as columns 0..MOVES-1. */
const MOVES = 2 * MAX_MOVE + 1;
const ROW_MEMORY = 2000;
/** Pseudo-count spread over a level's moves, so a move never seen there has a finite surprise. */
const PRIOR = 1;
/** -log10 of a probability that makes a raw score of 1. */
const RAW_SCALE = 4;

export interface SequenceState {
  n: number;
  /** Fine bin of the previous value (-1 before the first). */
  prev: number;
  /** counts[level * MOVES + move + MAX_MOVE]: moves seen from each level (halved now and then); rows[level]: their sum. */
  counts: number[];
  rows: number[];
  /** The last `averaging` raw scores as a ring, and their long-run mean, variance and weight. */
  ring: number[];
  head: number;
  mean: number;
  variance: number;
  weight: number;
}

export function newSequenceState(averaging: number): SequenceState {
  return {
    n: 0,
    prev: -1,
    counts: new Array<number>(LEVELS * MOVES).fill(0),
    rows: new Array<number>(LEVELS).fill(0),
    ring: new Array<number>(averaging).fill(0),
    head: 0,
    mean: 0,
    variance: 0,
    weight: 0,
  };
}

/** Numbers in a sequence state, for any `averaging`. */
export function sequenceNumbers(averaging: number): number {
  return LEVELS * MOVES + LEVELS + averaging + 6;
}

export interface SequenceSettings {
  averaging: number;
  longAlpha: number;
  minVar: number;
}

export interface SequenceVerdict {
  /** Surprise of the short average of raw scores (0 when it is not above its long-run level), and its z. */
  score: number;
  z: number;
  /** The level moved from (0-based, -1 for the first value), the move in fine bins (clipped), its learnt probability there. */
  level: number;
  move: number;
  probability: number;
}

/** The fine bin of x in a range starting at `lo` of width `range`. */
export function binOf(x: number, lo: number, range: number): number {
  const b = Math.floor(((x - lo) / range) * FINE_BINS);
  return b < 0 ? 0 : b >= FINE_BINS ? FINE_BINS - 1 : b;
}

/** Scores x (the move from the previous value's level), then learns that move. */
export function observeSequence(s: SequenceState, cfg: SequenceSettings, x: number, lo: number, range: number): SequenceVerdict {
  const bin = binOf(x, lo, range);
  const level = s.prev < 0 ? -1 : Math.floor((s.prev * LEVELS) / FINE_BINS);
  const d = s.prev < 0 ? 0 : bin - s.prev;
  const move = d < -MAX_MOVE ? -MAX_MOVE : d > MAX_MOVE ? MAX_MOVE : d;
  const cell = level * MOVES + move + MAX_MOVE;
  const probability = level < 0 ? 1 : ((s.counts[cell] as number) + PRIOR / MOVES) / ((s.rows[level] as number) + PRIOR);
  const raw = Math.min(1, -Math.log10(probability) / RAW_SCALE);

  // The short average against its long-run distribution (as LIKELIHOOD's scales).
  const { averaging } = cfg;
  const slot = s.head;
  s.head = slot + 1 === averaging ? 0 : slot + 1;
  s.ring[slot] = raw;
  const filled = Math.min(s.n + 1, averaging);
  let sum = 0;
  for (let k = 0; k < filled; k++) sum += s.ring[(slot - k + averaging) % averaging] as number;
  const avg = sum / filled;
  const v = s.weight > 0 ? s.variance / s.weight : 0;
  const z = (avg - s.mean) / Math.sqrt(Math.max(v, cfg.minVar));
  const score = surprise(z);
  if (s.n === 0) s.mean = avg;
  else {
    const diff = avg - s.mean;
    const incr = cfg.longAlpha * diff;
    s.mean += incr;
    s.variance = (1 - cfg.longAlpha) * (s.variance + diff * incr);
    s.weight = (1 - cfg.longAlpha) * s.weight + cfg.longAlpha;
  }

  // Learn the move.
  if (level >= 0) {
    s.counts[cell] = (s.counts[cell] as number) + 1;
    s.rows[level] = (s.rows[level] as number) + 1;
    if ((s.rows[level] as number) >= ROW_MEMORY) halveLevel(s, level);
  }
  s.prev = bin;
  s.n += 1;
  return { score, z, level, move, probability };
}

function halveLevel(s: SequenceState, level: number): void {
  let total = 0;
  for (let k = level * MOVES; k < (level + 1) * MOVES; k++) {
    const c = (s.counts[k] as number) / 2;
    s.counts[k] = c;
    total += c;
  }
  s.rows[level] = total;
}

/** A sequence state read back from a checkpoint; throws DetectorStateError. */
export function restoreSequence(saved: unknown, averaging: number): SequenceState {
  const o = checkObject('LIKELIHOOD', saved);
  const num = (key: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number => checkNumber('LIKELIHOOD', o, key, opts);
  const s: SequenceState = {
    n: num('n', { integer: true, min: 0 }),
    prev: num('prev', { integer: true, min: -1, max: FINE_BINS - 1 }),
    counts: checkNumbers('LIKELIHOOD', o, 'counts', LEVELS * MOVES),
    rows: checkNumbers('LIKELIHOOD', o, 'rows', LEVELS),
    ring: checkNumbers('LIKELIHOOD', o, 'ring', averaging),
    head: num('head', { integer: true, min: 0, max: averaging - 1 }),
    mean: num('mean'),
    variance: num('variance', { min: 0 }),
    weight: num('weight', { min: 0, max: 1 + 1e-9 }),
  };
  if (s.counts.length !== LEVELS * MOVES || s.rows.length !== LEVELS || s.ring.length !== averaging) {
    throw new DetectorStateError('LIKELIHOOD', `sequence must hold ${LEVELS * MOVES} counts, ${LEVELS} row sums and a ring of ${averaging}`);
  }
  if (s.counts.some((c) => c < 0) || s.rows.some((c) => c < 0)) throw new DetectorStateError('LIKELIHOOD', 'sequence counts must not be negative');
  return s;
}
