/**
 * The Numenta Anomaly Benchmark score, as ../shared/nab/README.md defines it
 * ("Scoring", rules 1-9). Pure: no I/O, no clock; the loader (loader.ts)
 * reads the corpus and hands plain arrays in.
 *
 * Everything works by row index, never by timestamp. A file of N rows has a
 * probation of P = min(floor(0.15 N), 750) rows that are never scored; a row
 * i >= P is a detection at threshold t iff its score is >= t. A window (rows
 * s..e, both inclusive, width w) is worth A_TP f(y) / f(-1) with
 * y = -(e - i + 1) / w for its earliest detection i, or -A_FN without one;
 * a detection outside every window costs A_FP f(x) with
 * x = (i - e') / (w' - 1) (e', w': the last window that ended before i), or
 * -A_FP when no window has ended yet; f is the scaled sigmoid below.
 * The corpus score sums all files; it is normalised against "no detections"
 * (-A_FN per window) and "perfect" (A_TP per window); one threshold per
 * detector per profile is chosen for the whole corpus by sweeping every
 * distinct score of a scored row, keeping the best sum (the higher t on a tie):
 * that sweep is in sweep.ts.
 */

/** The weights of one profile (config/profiles.json "CostMatrix"; tnWeight is unused by the score). */
export interface CostWeights {
  tp: number;
  fp: number;
  fn: number;
}

export interface Profile {
  /** As in profiles.json: standard, reward_low_FP_rate, reward_low_FN_rate. */
  name: string;
  weights: CostWeights;
}

/** The three profiles of NAB's config/profiles.json, in NAB's order. */
export const NAB_PROFILES: readonly Profile[] = [
  { name: 'standard', weights: { tp: 1, fp: 0.11, fn: 1 } },
  { name: 'reward_low_FP_rate', weights: { tp: 1, fp: 0.22, fn: 1 } },
  { name: 'reward_low_FN_rate', weights: { tp: 1, fp: 0.11, fn: 2 } },
];

/** A window as row indices, both ends inclusive (start <= end). */
export interface RowWindow {
  start: number;
  end: number;
}

/** One file to score: a score per row (any real numbers; NAB's are in [0, 1]) and its windows. */
export interface ScoredSeries {
  /** E.g. "realKnownCause/nyc_taxi.csv" (the key in combined_windows.json). */
  name: string;
  scores: ArrayLike<number>;
  /** Sorted, non-overlapping (checkWindows), within 0..scores.length-1. */
  windows: readonly RowWindow[];
}

export class NabScoringError extends Error {
  override readonly name = 'NabScoringError';
}

/** Rows i < probationRows(n) of an n-row file are not scored: min(floor(0.15 n), 750). */
export function probationRows(n: number): number {
  return Math.min(Math.floor(0.15 * n), 750);
}

/** NAB's scaled sigmoid: f(x) = 2 / (1 + e^(5x)) - 1, and -1 for x > 3. f(-1) ~ 0.9866, f(0) = 0. */
export function scaledSigmoid(x: number): number {
  if (x > 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

const F_MINUS_ONE = scaledSigmoid(-1);

/** Unweighted worth of a detection at row i of window s..e: f(y) / f(-1), y = -(e - i + 1) / w; 1 at the window's first row. */
export function truePositiveValue(i: number, window: RowWindow): number {
  const w = window.end - window.start + 1;
  return scaledSigmoid(-(window.end - i + 1) / w) / F_MINUS_ONE;
}

/**
 * Unweighted cost (<= 0) of a detection at row i outside every window:
 * f((i - e') / (w' - 1)) after a window e' of width w' ended, -1 when none
 * has ended (`previous` undefined). A one-row previous window (w' = 1) gives
 * x = +infinity, so -1.
 */
export function falsePositiveValue(i: number, previous: RowWindow | undefined): number {
  if (previous === undefined) return -1;
  const w = previous.end - previous.start + 1;
  const x = w > 1 ? (i - previous.end) / (w - 1) : Number.POSITIVE_INFINITY;
  return scaledSigmoid(x);
}

/**
 * The windows of a file as row indices. `bounds` are the file's entries of
 * combined_windows.json ([start, end] timestamps such as
 * "2013-12-10 06:25:00.000000"); each boundary is matched to the first row
 * whose timestamp equals its first 19 characters. Throws NabScoringError
 * when a boundary matches no row, a window ends before it starts, or windows
 * overlap; the result is sorted by start.
 */
export function windowsFromTimestamps(name: string, timestamps: readonly string[], bounds: readonly (readonly [string, string])[]): RowWindow[] {
  const firstRow = new Map<string, number>();
  for (let i = 0; i < timestamps.length; i++) {
    const t = (timestamps[i] as string).slice(0, 19);
    if (!firstRow.has(t)) firstRow.set(t, i);
  }
  const find = (boundary: string): number => {
    const row = firstRow.get(boundary.slice(0, 19));
    if (row === undefined) throw new NabScoringError(`${name}: window boundary ${JSON.stringify(boundary)} matches no row's timestamp`);
    return row;
  };
  const windows = bounds.map(([a, b]) => ({ start: find(a), end: find(b) }));
  checkWindows(name, windows, timestamps.length);
  return windows.sort((x, y) => x.start - y.start);
}

/** Throws NabScoringError unless every window lies within 0..n-1 with start <= end and no two share a row. */
export function checkWindows(name: string, windows: readonly RowWindow[], n: number): void {
  for (const w of windows) {
    if (!(Number.isInteger(w.start) && Number.isInteger(w.end) && 0 <= w.start && w.start <= w.end && w.end < n)) {
      throw new NabScoringError(`${name}: window rows ${w.start}..${w.end} are not an in-range, ordered pair (file has ${n} rows)`);
    }
  }
  const sorted = [...windows].sort((x, y) => x.start - y.start);
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1] as RowWindow;
    const b = sorted[k] as RowWindow;
    if (b.start <= a.end) throw new NabScoringError(`${name}: windows at rows ${a.start}..${a.end} and ${b.start}..${b.end} overlap`);
  }
}

/** One file's score at one threshold under one profile. */
export interface FileScore {
  name: string;
  /** Window scores plus false-positive values. */
  raw: number;
  windows: number;
  /** Windows with a detection (true positives), and without (false negatives). */
  detected: number;
  missed: number;
  /** Detections outside every window (each costs). */
  falsePositives: number;
  /** All detections (scored rows with score >= threshold), in windows or not. */
  detections: number;
}

/**
 * Scores one file at `threshold` (rules 1-7): the direct computation, row by
 * row. Windows must be valid (checkWindows); they need not be sorted.
 */
export function scoreFile(series: ScoredSeries, threshold: number, weights: CostWeights): FileScore {
  const n = series.scores.length;
  const windows = [...series.windows].sort((x, y) => x.start - y.start);
  const p = probationRows(n);
  let raw = 0;
  let detected = 0;
  let falsePositives = 0;
  let detections = 0;
  let k = 0; // the first window that has not ended before row i
  let previous: RowWindow | undefined; // the last window that ended before row i
  let hit = false; // window k has had a detection
  for (let i = p; i < n; i++) {
    while (k < windows.length && (windows[k] as RowWindow).end < i) {
      previous = windows[k++];
      hit = false;
    }
    if (!((series.scores[i] as number) >= threshold)) continue;
    detections++;
    const w = windows[k];
    if (w !== undefined && i >= w.start) {
      // Inside window k: only its earliest detection counts.
      if (!hit) {
        raw += weights.tp * truePositiveValue(i, w);
        detected++;
        hit = true;
      }
    } else {
      falsePositives++;
      raw += weights.fp * falsePositiveValue(i, previous);
    }
  }
  const missed = windows.length - detected;
  raw -= weights.fn * missed;
  return { name: series.name, raw, windows: windows.length, detected, missed, falsePositives, detections };
}

/** A corpus score at one threshold under one profile. */
export interface CorpusScore {
  profile: string;
  threshold: number;
  raw: number;
  /** Raw score with no detections (-A_FN per window) and with each window detected at its first row (A_TP per window). */
  nullRaw: number;
  perfectRaw: number;
  /** 100 (raw - null) / (perfect - null); NaN when the corpus has no windows. */
  normalised: number;
  windows: number;
  detected: number;
  falsePositives: number;
  detections: number;
  files: FileScore[];
}

/** 100 (raw - nullRaw) / (perfectRaw - nullRaw) for a corpus of `windows` windows (rule 8); NaN without windows. */
export function normalise(raw: number, windows: number, weights: CostWeights): number {
  const nullRaw = 0 - windows * weights.fn;
  const perfectRaw = windows * weights.tp;
  return perfectRaw === nullRaw ? Number.NaN : (100 * (raw - nullRaw)) / (perfectRaw - nullRaw);
}

/** A detector's result under one profile: the swept threshold and the direct score there. */
export type ProfileResult = CorpusScore;

/** Scores every file at `threshold` and sums them (rules 7-8). */
export function scoreCorpus(series: readonly ScoredSeries[], threshold: number, profile: Profile): CorpusScore {
  const files = series.map((s) => scoreFile(s, threshold, profile.weights));
  return summarise(profile, threshold, files);
}

/** The corpus total of some file scores (e.g. one category's) at their common threshold. */
export function summarise(profile: Profile, threshold: number, files: FileScore[]): CorpusScore {
  let raw = 0;
  let windows = 0;
  let detected = 0;
  let falsePositives = 0;
  let detections = 0;
  for (const f of files) {
    raw += f.raw;
    windows += f.windows;
    detected += f.detected;
    falsePositives += f.falsePositives;
    detections += f.detections;
  }
  const w = profile.weights;
  return {
    profile: profile.name,
    threshold,
    raw,
    nullRaw: 0 - windows * w.fn,
    perfectRaw: windows * w.tp,
    normalised: normalise(raw, windows, w),
    windows,
    detected,
    falsePositives,
    detections,
    files,
  };
}

/**
 * Profiles from the text of config/profiles.json
 * ({ name: { CostMatrix: { tpWeight, fpWeight, fnWeight, tnWeight } } }).
 */
export function parseProfiles(json: unknown): Profile[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new NabScoringError('profiles: expected a JSON object');
  return Object.entries(json as Record<string, unknown>).map(([name, entry]) => {
    const m = (entry as { CostMatrix?: Record<string, unknown> } | null)?.CostMatrix;
    const get = (key: string): number => {
      const v = m?.[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new NabScoringError(`profiles: ${name}.CostMatrix.${key} must be a number`);
      return v;
    };
    return { name, weights: { tp: get('tpWeight'), fp: get('fpWeight'), fn: get('fnWeight') } };
  });
}
