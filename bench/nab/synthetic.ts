import { mulberry32 } from '../events.ts';

/**
 * A synthetic corpus in NAB's layout, to measure how detection generalises
 * beyond NAB's 58 files: every series is generated from a seed, and every
 * anomaly is of a known kind, so a score can be broken down by kind. Pure:
 * scripts/generate-corpus.ts writes the files.
 *
 * Each category is a season length and a noise level (e.g. daily_high); each
 * file in it holds one kind of anomaly, twice (or none, for kind `none`).
 * Labels follow NAB's convention: a window of 10% of the file's length split
 * among its anomalies, centred on the onset, so half of it lies before the
 * anomaly (a detector can only reach the second half).
 */

/** 5-minute steps, as most of NAB. */
export const STEP_MS = 300_000;
/** Monday 2026-01-05 00:00 UTC: weekly patterns start on a Monday. */
export const CORPUS_START_MS = Date.UTC(2026, 0, 5);

export const SEASONS = { hourly: 12, daily: 288, weekly: 2016 } as const;
export type SeasonName = keyof typeof SEASONS;
/** Standard deviation of the Gaussian noise, against a level of 100 and a seasonal amplitude of 20. */
export const NOISE_LEVELS = { low: 1.5, high: 5 } as const;
export type NoiseName = keyof typeof NOISE_LEVELS;

export const ANOMALY_KINDS = [
  'spike',
  'dip',
  'level_shift',
  'variance',
  'flatline',
  'amplitude',
  'phase',
  'drift',
  'count_burst',
  'walk_jump',
  'none',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface SyntheticFile {
  /** "<category>/<kind>.csv". */
  name: string;
  category: string;
  kind: AnomalyKind;
  timestamps: string[];
  values: number[];
  /** Label windows as [start, end] row indices, both inclusive. */
  windows: [number, number][];
}

/** NAB's timestamp text for epoch ms: "YYYY-MM-DD HH:MM:SS". */
export function nabTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A standard normal from two uniforms (Box-Muller). */
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Poisson(lambda) by inversion (lambda up to a few hundred), normal approximation beyond. */
function poisson(rand: () => number, lambda: number): number {
  if (lambda > 200) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(rand)));
  let k = 0;
  let p = Math.exp(-lambda);
  let cumulative = p;
  const u = rand();
  while (u > cumulative && k < 10_000) {
    k += 1;
    p *= lambda / k;
    cumulative += p;
  }
  return k;
}

/**
 * The seasonal shape in [-1, 1] at event t for a season of `period` events.
 * Weekly: a daily cycle whose weekend days run at 40%, like business traffic.
 */
function shape(t: number, period: number): number {
  if (period === SEASONS.weekly) {
    const day = Math.floor(t / SEASONS.daily) % 7;
    const weekend = day >= 5 ? 0.4 : 1;
    return weekend * Math.sin((2 * Math.PI * t) / SEASONS.daily) - (1 - weekend);
  }
  return Math.sin((2 * Math.PI * t) / period) + 0.3 * Math.sin((4 * Math.PI * t) / period);
}

/** Rows per file: two weeks of 5-minute steps, four for weekly seasons (so two full weeks are seen before an anomaly). */
export function rowsFor(season: SeasonName): number {
  return season === 'weekly' ? 4 * SEASONS.weekly : 2 * SEASONS.weekly;
}

/** How long an anomaly of `kind` lasts, in events, for a season of `period` events. */
function durationOf(kind: AnomalyKind, period: number): number {
  switch (kind) {
    case 'spike':
    case 'dip':
      return 1;
    case 'flatline':
      return 72; // 6 hours
    case 'amplitude':
    case 'phase':
      return period < SEASONS.daily ? 3 * period : SEASONS.daily; // one day, or three hourly seasons
    case 'variance':
    case 'count_burst':
      return 36; // 3 hours
    case 'drift':
      return 576; // 2 days of ramp, then it stays
    default:
      return 0; // level shifts and jumps stay
  }
}

/**
 * One file: `kind` anomalies at 60% and 82% of the series (one for a drift,
 * which is long), with NAB-style windows around their onsets.
 */
export function generateFile(seed: number, season: SeasonName, noise: NoiseName, kind: AnomalyKind): SyntheticFile {
  const rand = mulberry32(seed);
  const period = SEASONS[season];
  const n = rowsFor(season);
  const sd = NOISE_LEVELS[noise];
  const onsets = kind === 'none' ? [] : kind === 'drift' ? [Math.floor(0.6 * n)] : [Math.floor(0.6 * n), Math.floor(0.82 * n)];
  const duration = durationOf(kind, period);
  const inside = (t: number): number => onsets.findIndex((o) => t >= o && t < o + duration);
  const values: number[] = [];
  let walk = 100;
  let offset = 0;
  let flatValue = 0;
  // Counts: a seasonal rate of 5 (high noise, relatively) or 60 events per step.
  const rate = noise === 'high' ? 5 : 60;
  for (let t = 0; t < n; t++) {
    const onset = onsets.includes(t);
    const active = inside(t) >= 0;
    let phase = t;
    let amplitude = 20;
    let sigma = sd;
    // A quarter of the daily cycle (of the cycle itself when shorter).
    if (active && kind === 'phase') phase = t + Math.round(Math.min(period, SEASONS.daily) / 4);
    if (active && kind === 'amplitude') amplitude = 2;
    if (active && kind === 'variance') sigma = 4 * sd;
    if (onset && kind === 'level_shift') offset += 5 * sd + 10;
    if (kind === 'drift' && onsets[0] !== undefined && t >= onsets[0]) offset = 25 * Math.min(1, (t - onsets[0]) / duration);
    let x: number;
    if (kind === 'count_burst') {
      x = poisson(rand, rate * (1 + 0.5 * shape(t, period)) * (active ? 3 : 1));
    } else if (kind === 'walk_jump') {
      walk += 0.3 * sd * gaussian(rand) + (onset ? 15 * sd : 0);
      x = walk + 5 * shape(t, period);
    } else {
      x = 100 + offset + amplitude * shape(phase, period) + sigma * gaussian(rand);
      if (onset && kind === 'spike') x += 8 * sd + 8;
      if (onset && kind === 'dip') x -= 8 * sd + 8;
    }
    if (kind === 'flatline') {
      if (onset) flatValue = values[t - 1] ?? x;
      if (active) x = flatValue;
    }
    values.push(Math.round(x * 1000) / 1000);
  }
  const width = onsets.length > 0 ? Math.floor((0.1 * n) / onsets.length) : 0;
  const windows = onsets.map((o): [number, number] => {
    const start = Math.max(0, o - Math.floor(width / 2));
    return [start, Math.min(n - 1, start + width - 1)];
  });
  const category = `${season}_${noise}`;
  const timestamps = values.map((_, t) => nabTimestamp(CORPUS_START_MS + t * STEP_MS));
  return { name: `${category}/${kind}.csv`, category, kind, timestamps, values, windows };
}

/** Every season x noise level x kind, each file from its own seed derived from `seed`. */
export function generateCorpus(seed: number): SyntheticFile[] {
  const files: SyntheticFile[] = [];
  let index = 0;
  for (const season of Object.keys(SEASONS) as SeasonName[]) {
    for (const noise of Object.keys(NOISE_LEVELS) as NoiseName[]) {
      for (const kind of ANOMALY_KINDS) {
        index += 1;
        files.push(generateFile((seed * 1_000_003 + index * 7919) >>> 0, season, noise, kind));
      }
    }
  }
  return files;
}
