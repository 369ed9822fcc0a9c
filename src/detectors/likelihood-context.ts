import { driftWhy, flatWhy, recordWhy, seasonWhy } from './likelihood-why.ts';
import { surprise } from './tail.ts';

/**
 * The context channels of LIKELIHOOD: anomalies that no single value gives
 * away. Each is optional (the `channels` setting) and scores on the same
 * scale as the other scales (surprise, -log10 of a probability), so one
 * threshold serves all; the explanation names the channel that fired.
 *
 *   SEASON  the value against the same phase of earlier cycles. Candidate
 *           periods are in time (an hour in 5-minute slots, a day in
 *           30-minute slots, a week in hourly slots); the period is the one
 *           whose slot averages predict the next value best, out of sample,
 *           and only if they beat the plain slow average by far (SEASON_GAIN).
 *           Judged like the other scales (the short average of the residual
 *           against its long-run distribution), plus a one-event record;
 *           both once the period has been in use SEASON_SETTLE events. Sees
 *           lost amplitude and shifted phases.
 *   FLAT    a flatline: the value has not moved (by more than `FLAT_SHARE`
 *           of the range) for longer than twice the longest such run seen
 *           before, at least MIN_FLAT events and MIN_FLAT_MS, away from the
 *           lowest value seen (a run there is an idle series). Once per run.
 *   DRIFT   the level against a long baseline (about 1,000 events): the
 *           level is a slow average of the value with the seasonal shape
 *           (the found period's slot against the mean of its slots) taken
 *           out, so a daily cycle does not hide a slow drift. Alerts when
 *           the gap exceeds DRIFT_TIMES its usual size (and DRIFT_MIN of the
 *           range); the new level then becomes the baseline (one alert per
 *           drift). The gap is also judged like the other scales.
 *
 * O(1) per event (the ring of `averaging` and 3 candidate periods), and a
 * fixed state: contextNumbers(averaging) numbers (likelihood-state.ts).
 */

export const CONTEXT_CHANNELS = ['SEASON', 'FLAT', 'DRIFT', 'SEQUENCE'] as const;
export type ContextChannel = (typeof CONTEXT_CHANNELS)[number];

const HOUR = 3_600_000;
/** Candidate periods: length in ms and slots per period. */
export const PERIODS = [
  { name: 'hourly', ms: HOUR, slots: 12 },
  { name: 'daily', ms: 24 * HOUR, slots: 48 },
  { name: 'weekly', ms: 168 * HOUR, slots: 168 },
] as const;
const SLOT_BASE = [0, 12, 60];
export const ALL_SLOTS = 228;
/** Weight of each value in its slot's average (after a plain mean of the slot's first values). */
const SLOT_ALPHA = 0.1;
/** Weight of each squared prediction error in the candidates' error averages. */
const ERROR_ALPHA = 0.005;
/** A period is used when its prediction error is below this share of the slow average's. */
const SEASON_GAIN = 0.3;
/** A one-event seasonal residual alerts beyond this multiple of the largest seen (slowly forgotten, over RECORD_MEMORY events). */
const RECORD = 1.3;
const RECORD_MEMORY = 4000;
const SEASON_SETTLE = 300;
/** Steps below this share of the range count as "not moving". */
const FLAT_SHARE = 0.001;
const MIN_FLAT = 12;
const MIN_FLAT_MS = 2 * HOUR;
/** Weight of each value in the level of DRIFT (about 100 events) and in its long baseline (about 1,000 events). */
const LEVEL_ALPHA = 0.01;
const LONG_ALPHA = 0.002;
/** Events after the period settles before the baseline counts (about its memory), and the smallest gap (share of the range) DRIFT alerts on. */
const DRIFT_SETTLE = 500;
const DRIFT_MIN = 0.02;
const DRIFT_TIMES = 4;
/** Raw-score channels judged by their likelihood: SEASON, DRIFT. */
export const JUDGED = 2;

export interface ContextState {
  n: number;
  /** Time of the first event (epoch ms), NaN-free: 0 before it. */
  t0: number;
  slots: number[];
  slotN: number[];
  /** Per candidate period: average squared error of its slot prediction; and of the slow average. */
  err: number[];
  baseErr: number;
  /** Per candidate period: sum of its slot averages and how many slots have one (the mean level of its cycle). */
  slotSum: number[];
  slotFilled: number[];
  /** DRIFT: the deseasonalised level and its long baseline. */
  level: number;
  long: number;
  /** The current run of unmoving events, when it started (ms), and the longest run before it. */
  flatRun: number;
  flatSince: number;
  /** 1 once the current flat run has alerted. */
  flatAlerted: number;
  longestFlat: number;
  /** Largest seasonal residual seen (a share of the range), slowly forgotten. */
  resMax: number;
  /** DRIFT: events since the found period last changed (the level is comparable only within one), and the usual gap since settling (its average). */
  settled: number;
  lastPeriod: number;
  gapMax: number;
  /** Short averages and their long-run statistics, as in LIKELIHOOD (SEASON, DRIFT). */
  ring: number[];
  head: number;
  mean: number[];
  variance: number[];
  weight: number;
}

export interface ContextVerdict {
  score: number;
  channel: ContextChannel | null;
  why: () => string;
}

export function newContextState(averaging: number): ContextState {
  return {
    n: 0,
    t0: 0,
    slots: new Array<number>(ALL_SLOTS).fill(0),
    slotN: new Array<number>(ALL_SLOTS).fill(0),
    err: new Array<number>(PERIODS.length).fill(0),
    baseErr: 0,
    slotSum: new Array<number>(PERIODS.length).fill(0),
    slotFilled: new Array<number>(PERIODS.length).fill(0),
    level: 0,
    long: 0,
    flatRun: 0,
    flatSince: 0,
    flatAlerted: 0,
    longestFlat: 0,
    resMax: 0,
    settled: 0,
    lastPeriod: -1,
    gapMax: 0,
    ring: new Array<number>(JUDGED * averaging).fill(0),
    head: 0,
    mean: new Array<number>(JUDGED).fill(0),
    variance: new Array<number>(JUDGED).fill(0),
    weight: 0,
  };
}

export interface ContextSettings {
  channels: readonly ContextChannel[];
  averaging: number;
  longAlpha: number;
  minVar: number;
  threshold: number;
  /** Events the channels must have seen before they score (they may start later than the series, after a migrated checkpoint). */
  warmup: number;
}

const NONE: ContextVerdict = { score: 0, channel: null, why: () => '' };

/**
 * Scores x at `time` on the enabled channels, then learns it. `slow` is
 * LIKELIHOOD's slow average before x, `range` the scale of deviations,
 * `step` |x - previous value|, `moves` the slow average of steps, `lowest` the lowest value seen before x.
 */
export function observeContext(
  s: ContextState,
  cfg: ContextSettings,
  x: number,
  time: number,
  slow: number,
  range: number,
  step: number,
  moves: number,
  lowest: number,
): ContextVerdict {
  const timed = Number.isFinite(time);
  if (s.n === 0) {
    s.t0 = timed ? time : 0;
    s.level = x;
    s.long = x;
  }
  const elapsed = timed ? time - s.t0 : 0;
  const warm = s.n >= cfg.warmup;
  // SEASON: the best candidate period, judged on errors made before x is learnt.
  let period = -1;
  let bestErr = SEASON_GAIN * s.baseErr;
  const slotOf = [0, 0, 0];
  for (let p = 0; p < PERIODS.length; p++) {
    const c = PERIODS[p] as (typeof PERIODS)[number];
    const slot = (SLOT_BASE[p] as number) + (timed ? Math.floor((((time % c.ms) + c.ms) % c.ms) / (c.ms / c.slots)) : 0);
    slotOf[p] = slot;
    if (elapsed >= 2 * c.ms && (s.err[p] as number) < bestErr) {
      bestErr = s.err[p] as number;
      period = p;
    }
  }
  const usual = period >= 0 ? (s.slots[slotOf[period] as number] as number) : slow;
  const seasonal = period >= 0 ? Math.abs(x - usual) / range : 0;
  const shape = period >= 0 ? usual - (s.slotSum[period] as number) / Math.max(1, s.slotFilled[period] as number) : 0;
  const raws = [seasonal, Math.abs(s.level - s.long) / range];
  // The period in use changed: the residuals and the level start over.
  if (period !== s.lastPeriod) {
    s.lastPeriod = period;
    s.settled = 0;
    s.gapMax = 0;
  }
  s.settled += 1;
  // SEASON is judged once its period has been in use for a while: its long-run statistics began before it was found.
  const enabled = [cfg.channels.includes('SEASON') && period >= 0 && s.settled > SEASON_SETTLE, cfg.channels.includes('DRIFT')];
  let best = NONE;
  const { averaging } = cfg;
  const slot = s.head;
  s.head = slot + 1 === averaging ? 0 : slot + 1;
  const filled = Math.min(s.n + 1, averaging);
  for (let c = 0; c < JUDGED; c++) {
    const base = c * averaging;
    s.ring[base + slot] = Math.min(1, raws[c] as number);
    let sum = 0;
    for (let k = 0; k < filled; k++) sum += s.ring[base + ((slot - k + averaging) % averaging)] as number;
    const avg = sum / filled;
    const m = s.mean[c] as number;
    const v = s.weight > 0 ? (s.variance[c] as number) / s.weight : 0;
    const z = (avg - m) / Math.sqrt(Math.max(v, cfg.minVar));
    const score = surprise(z);
    if (enabled[c] && warm && score > best.score) {
      best = c === 0
        ? { score, channel: 'SEASON', why: seasonWhy(x, usual, PERIODS[period]?.name, z, filled) }
        : { score, channel: 'DRIFT', why: driftWhy(s.level, s.long, range, null, z) };
    }
    if (s.n === 0) s.mean[c] = avg;
    else {
      const diff = avg - m;
      const incr = cfg.longAlpha * diff;
      s.mean[c] = m + incr;
      s.variance[c] = (1 - cfg.longAlpha) * ((s.variance[c] as number) + diff * incr);
    }
  }
  if (s.n > 0) s.weight = (1 - cfg.longAlpha) * s.weight + cfg.longAlpha;


  // SEASON, one event: a residual beyond the largest one seen by a margin (a spike that stays within the range),
  // once the period has been in use for a while (the first residuals of a new period make a low record).
  if (period >= 0 && warm && s.settled > SEASON_SETTLE && cfg.channels.includes('SEASON')) {
    if (s.resMax > 0 && seasonal > RECORD * s.resMax) {
      const score = cfg.threshold * (1 + seasonal / s.resMax - RECORD);
      if (score > best.score) best = { score, channel: 'SEASON', why: recordWhy(x, usual, PERIODS[period]?.name, seasonal / s.resMax) };
    }
  }
  if (period >= 0 && warm) s.resMax = Math.max(seasonal, s.resMax * (1 - 1 / RECORD_MEMORY));

  // DRIFT: the level's gap beyond DRIFT_TIMES its usual size since the period settled, once the baseline has caught up.
  const gap = raws[1] as number;
  if (s.settled > DRIFT_SETTLE) {
    const usualGap = s.gapMax;
    if (cfg.channels.includes('DRIFT') && warm && s.settled > 2 * DRIFT_SETTLE && gap > DRIFT_TIMES * usualGap && gap > DRIFT_MIN) {
      const score = cfg.threshold * (gap / Math.max(DRIFT_TIMES * usualGap, DRIFT_MIN));
      if (score > best.score) best = { score, channel: 'DRIFT', why: driftWhy(s.level, s.long, range, gap / usualGap) };
      // One alert per drift: the new level becomes the baseline.
      s.long = s.level;
    }
    s.gapMax += (gap - s.gapMax) / Math.min(s.settled - DRIFT_SETTLE, RECORD_MEMORY);
  }

  // FLAT: a record run of unmoving values.
  if (s.n > 0 && step <= FLAT_SHARE * range) {
    if (s.flatRun === 0) s.flatSince = timed ? time : 0;
    s.flatRun += 1;
  } else {
    if (s.flatRun > s.longestFlat) s.longestFlat = s.flatRun;
    s.flatRun = 0;
  }
  // Short gaps in the data are common: a flatline must also last MIN_FLAT_MS. A run at the lowest value seen is
  // idling (no traffic, an idle CPU), not a stuck series: FLAT leaves it to THRESHOLD and FRESHNESS.
  const needed = Math.max(MIN_FLAT, 2 * s.longestFlat);
  const lasted = !timed || time - s.flatSince >= MIN_FLAT_MS;
  const idle = x <= lowest + FLAT_SHARE * range;
  if (s.flatRun < needed || !lasted || idle) s.flatAlerted = 0;
  else if (cfg.channels.includes('FLAT') && warm && s.flatAlerted === 0) {
    s.flatAlerted = 1;
    const score = cfg.threshold * 1.5;
    if (score > best.score) best = { score, channel: 'FLAT', why: flatWhy(s.flatRun, timed ? time - s.flatSince : null, s.longestFlat, moves / range) };
  }

  // Learn x.
  for (let p = 0; p < PERIODS.length; p++) {
    const k = slotOf[p] as number;
    const e = x - (s.slots[k] as number);
    if ((s.slotN[k] as number) > 0) s.err[p] = (s.err[p] as number) + ERROR_ALPHA * (e * e - (s.err[p] as number));
    else s.err[p] = (s.err[p] as number) + ERROR_ALPHA * ((x - slow) * (x - slow) - (s.err[p] as number));
    if ((s.slotN[k] as number) === 0) s.slotFilled[p] = (s.slotFilled[p] as number) + 1;
    s.slotSum[p] = (s.slotSum[p] as number) + learnSlot(s.slots, s.slotN, k, x);
  }
  if (s.n > 0) s.baseErr += ERROR_ALPHA * ((x - slow) * (x - slow) - s.baseErr);
  if (s.n > 0) s.level += LEVEL_ALPHA * (x - shape - s.level);
  s.long += LONG_ALPHA * (s.level - s.long);
  s.n += 1;
  return best;
}

/** Learns x into a slot's average; returns how much the average moved (the first value: all of it). */
function learnSlot(mean: number[], count: number[], slot: number, x: number): number {
  const n = count[slot] as number;
  const a = Math.max(SLOT_ALPHA, 1 / (n + 1));
  const before = n === 0 ? 0 : (mean[slot] as number);
  mean[slot] = n === 0 ? x : before + a * (x - before);
  if (a > SLOT_ALPHA) count[slot] = n + 1;
  return (mean[slot] as number) - before;
}
