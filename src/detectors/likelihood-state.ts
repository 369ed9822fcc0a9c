import { ALL_SLOTS, JUDGED, newContextState, PERIODS, type ContextChannel, type ContextState } from './likelihood-context.ts';
import { restoreSequence, type SequenceState } from './likelihood-sequence.ts';
import { checkNumber, checkNumbers, checkObject, DetectorStateError } from './state-check.ts';

/** The per-series state and the settings of LIKELIHOOD (likelihood.ts), and reading a state back from a checkpoint. */

export interface LikelihoodState {
  /** Events seen. */
  n: number;
  /** Smallest and largest value seen (0 before the first). */
  lo: number;
  hi: number;
  /** Previous value, fast and slow moving averages of the value, slow average of |step|. */
  prev: number;
  fast: number;
  slow: number;
  stepMean: number;
  /** The last `averaging` raw scores of each scale, scale-major, as a ring. */
  ring: number[];
  /** Next ring slot. */
  head: number;
  /** Per scale: long-run mean and variance of the averaged raw score. */
  mean: number[];
  variance: number[];
  /** Weight the long-run statistics have gathered (0 to 1). */
  weight: number;
  /** Events of silence left after an alert. */
  quiet: number;
  /** Seasonal baseline: moving average of the value per hour of the week (UTC), and events seen per slot (counted up to 1/seasonAlpha). */
  week: number[];
  weekN: number[];
  /** The context channels (likelihood-context.ts). Checkpoints written before they existed have none: restore starts them fresh. */
  context: ContextState;
  /** The SEQUENCE channel (likelihood-sequence.ts), kept only while that channel is on. */
  sequence?: SequenceState;
}

export interface LikelihoodParams {
  threshold: number;
  warmup: number;
  inputMin: number | null;
  inputMax: number | null;
  averaging: number;
  memory: number;
  minSpread: number;
  novelty: number;
  quiet: number;
  fastAlpha: number;
  slowAlpha: number;
  seasonAlpha: number;
  /** Context channels switched on (absent in versions stored before they existed: none). */
  channels: ContextChannel[];
}

export const LIKELIHOOD_SCALES = ['step', 'fast', 'slow', 'vol', 'weekly'] as const;
/** Time-of-week slots (1 hour each) of the seasonal baseline. */
export const WEEK_SLOTS = 168;
export const WEEK_MS = 7 * 86_400_000;
export const SCALES = LIKELIHOOD_SCALES.length;

export function likelihoodParams(p: Record<string, unknown>): LikelihoodParams {
  return {
    threshold: p.threshold as number,
    warmup: p.warmup as number,
    inputMin: (p.inputMin ?? null) as number | null,
    inputMax: (p.inputMax ?? null) as number | null,
    averaging: p.averaging as number,
    memory: p.memory as number,
    minSpread: p.minSpread as number,
    novelty: p.novelty as number,
    quiet: p.quiet as number,
    fastAlpha: p.fastAlpha as number,
    slowAlpha: p.slowAlpha as number,
    seasonAlpha: p.seasonAlpha as number,
    channels: Array.isArray(p.channels) ? (p.channels as ContextChannel[]) : [],
  };
}

export function restoreLikelihood(saved: unknown, averaging: number, quiet: number): LikelihoodState {
  const o = checkObject('LIKELIHOOD', saved);
  const state: LikelihoodState = {
    n: checkNumber('LIKELIHOOD', o, 'n', { integer: true, min: 0 }),
    lo: checkNumber('LIKELIHOOD', o, 'lo'),
    hi: checkNumber('LIKELIHOOD', o, 'hi'),
    prev: checkNumber('LIKELIHOOD', o, 'prev'),
    fast: checkNumber('LIKELIHOOD', o, 'fast'),
    slow: checkNumber('LIKELIHOOD', o, 'slow'),
    stepMean: checkNumber('LIKELIHOOD', o, 'stepMean', { min: 0 }),
    ring: checkNumbers('LIKELIHOOD', o, 'ring', SCALES * averaging),
    head: checkNumber('LIKELIHOOD', o, 'head', { integer: true, min: 0, max: averaging - 1 }),
    mean: checkNumbers('LIKELIHOOD', o, 'mean', SCALES),
    variance: checkNumbers('LIKELIHOOD', o, 'variance', SCALES),
    weight: checkNumber('LIKELIHOOD', o, 'weight', { min: 0, max: 1 + 1e-9 }),
    quiet: checkNumber('LIKELIHOOD', o, 'quiet', { integer: true, min: 0, max: quiet }),
    week: checkNumbers('LIKELIHOOD', o, 'week', WEEK_SLOTS),
    weekN: checkNumbers('LIKELIHOOD', o, 'weekN', WEEK_SLOTS),
    // Migration: a checkpoint from before the context channels has none; they start fresh (and warm up on their own).
    context: o.context === undefined ? newContextState(averaging) : restoreContext(o.context, averaging),
  };
  // SEQUENCE's state exists once that channel has seen an event; without it the channel starts fresh.
  if (o.sequence !== undefined) state.sequence = restoreSequence(o.sequence, averaging);
  if (
    state.ring.length !== SCALES * averaging ||
    state.mean.length !== SCALES ||
    state.variance.length !== SCALES ||
    state.week.length !== WEEK_SLOTS ||
    state.weekN.length !== WEEK_SLOTS
  ) {
    throw new DetectorStateError(
      'LIKELIHOOD',
      `ring must hold ${SCALES * averaging} numbers, mean and variance ${SCALES} each, week and weekN ${WEEK_SLOTS} each`,
    );
  }
  if (state.lo > state.hi || state.variance.some((v) => v < 0) || state.weekN.some((k) => !Number.isInteger(k) || k < 0)) {
    throw new DetectorStateError('LIKELIHOOD', 'lo must not exceed hi, variances must not be negative and weekN must hold counts');
  }
  return state;
}

/** Size of a context state in numbers, for any `averaging`. */
export function contextNumbers(averaging: number): number {
  return 2 * ALL_SLOTS + 3 * PERIODS.length + JUDGED * (averaging + 2) + 15;
}

/** A context state read back from a checkpoint; throws DetectorStateError. */
export function restoreContext(saved: unknown, averaging: number): ContextState {
  const o = checkObject('LIKELIHOOD', saved);
  const num = (key: string, opts: { integer?: boolean; min?: number } = {}): number => checkNumber('LIKELIHOOD', o, key, opts);
  const s: ContextState = {
    n: num('n', { integer: true, min: 0 }),
    t0: num('t0'),
    slots: checkNumbers('LIKELIHOOD', o, 'slots', ALL_SLOTS),
    slotN: checkNumbers('LIKELIHOOD', o, 'slotN', ALL_SLOTS),
    err: checkNumbers('LIKELIHOOD', o, 'err', PERIODS.length),
    baseErr: num('baseErr', { min: 0 }),
    slotSum: checkNumbers('LIKELIHOOD', o, 'slotSum', PERIODS.length),
    slotFilled: checkNumbers('LIKELIHOOD', o, 'slotFilled', PERIODS.length),
    level: num('level'),
    long: num('long'),
    flatRun: num('flatRun', { integer: true, min: 0 }),
    flatSince: num('flatSince'),
    flatAlerted: num('flatAlerted', { integer: true, min: 0 }),
    longestFlat: num('longestFlat', { integer: true, min: 0 }),
    resMax: num('resMax', { min: 0 }),
    settled: num('settled', { integer: true, min: 0 }),
    lastPeriod: num('lastPeriod', { integer: true, min: -1 }),
    gapMax: num('gapMax', { min: 0 }),
    ring: checkNumbers('LIKELIHOOD', o, 'ring', JUDGED * averaging),
    head: num('head', { integer: true, min: 0 }),
    mean: checkNumbers('LIKELIHOOD', o, 'mean', JUDGED),
    variance: checkNumbers('LIKELIHOOD', o, 'variance', JUDGED),
    weight: num('weight', { min: 0 }),
  };
  if (
    s.slots.length !== ALL_SLOTS ||
    s.slotN.length !== ALL_SLOTS ||
    s.err.length !== PERIODS.length ||
    s.slotSum.length !== PERIODS.length ||
    s.slotFilled.length !== PERIODS.length ||
    s.ring.length !== JUDGED * averaging ||
    s.mean.length !== JUDGED ||
    s.variance.length !== JUDGED ||
    s.head >= averaging
  ) {
    throw new DetectorStateError('LIKELIHOOD', `context must hold ${ALL_SLOTS} slots and counts, ${PERIODS.length} errors and a ring of ${JUDGED * averaging}`);
  }
  return s;
}
