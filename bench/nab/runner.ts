import { createDetector, type DetectorModel, type Verdict } from '../../src/detectors/detector.ts';
import { DETECTOR_PARAM_SPECS, normalizeDetectorParams } from '../../src/detectors/params.ts';
import type { DetectorKind } from '../../src/generated/prisma/enums.ts';
import type { NabFile } from './loader.ts';
import type { Profile, ProfileResult, ScoredSeries } from './scorer.ts';
import { scoreDetector } from './sweep.ts';

/**
 * Runs Vigil's detectors over a NAB corpus the way the stream worker runs
 * them: the same models (createDetector), one fresh model and state per
 * file, one value at a time in row order, no look-ahead, one parameter set
 * for all files. The only per-file fact used is the file's min and max
 * (NAB allows it), and only by THRESHOLD and LIKELIHOOD.
 *
 * NAB wants a score in [0, 1] per row. A verdict maps to
 *
 *     nab = score / (score + theta)
 *
 * where theta is the detector's own alert threshold (the statistical kinds'
 * `threshold` in sigmas, 1 for THRESHOLD, whose breaches score above 1, the
 * ENSEMBLE's `threshold` share), and nab = 0 for a value that arrives while
 * the model is still warming up (the worker cannot alert then). The map is
 * the same for every file and strictly increasing in the score, so it is
 * 0 for score 0, 0.5 exactly at the detector's threshold and tends to 1;
 * because NAB sweeps the threshold over every distinct score, any strictly
 * increasing map gives the same NAB result: what is measured is the ranking
 * of the detector's scores, and the swept nab threshold t stands for the
 * detector threshold theta t / (1 - t) (see equivalentScore).
 */

/** The kinds that make sense on NAB, in the order `--detector all` runs them. FRESHNESS judges gaps, not values. */
export const NAB_DETECTOR_KINDS = ['ZSCORE', 'MAD', 'EWMA', 'SEASONAL', 'THRESHOLD', 'LIKELIHOOD', 'ENSEMBLE'] as const satisfies readonly DetectorKind[];
export type NabDetectorKind = (typeof NAB_DETECTOR_KINDS)[number];

/** ENSEMBLE's members when the params give none: the three windowed/smoothed statistical kinds, with their defaults. */
export const DEFAULT_ENSEMBLE_MEMBERS: readonly Record<string, unknown>[] = [{ kind: 'ZSCORE' }, { kind: 'MAD' }, { kind: 'EWMA' }];

/**
 * The params a detector of `kind` gets for `file`, from the user's params
 * (one set for all files). THRESHOLD: `min` and `max` default to the file's
 * min and max (for a constant file only `max` is set, as min < max is
 * required). LIKELIHOOD: `inputMin` and `inputMax` default to the file's
 * min and max (left out for a constant file). ENSEMBLE: `members` defaults
 * to DEFAULT_ENSEMBLE_MEMBERS.
 */
export function paramsForFile(kind: NabDetectorKind, params: Record<string, unknown>, file: Pick<NabFile, 'min' | 'max'>): Record<string, unknown> {
  if (kind === 'THRESHOLD') {
    const out: Record<string, unknown> = { ...params };
    if (!('min' in params) && !('max' in params)) {
      out.max = file.max;
      out.min = file.min < file.max ? file.min : null;
    }
    return out;
  }
  if (kind === 'LIKELIHOOD') {
    if ('inputMin' in params || 'inputMax' in params || !(file.min < file.max)) return params;
    return { ...params, inputMin: file.min, inputMax: file.max };
  }
  if (kind === 'ENSEMBLE' && !('members' in params)) return { ...params, members: DEFAULT_ENSEMBLE_MEMBERS };
  return params;
}

/** The score at which a detector of `kind` with (normalised) `params` alerts: theta in nab = score / (score + theta). */
export function alertThreshold(kind: NabDetectorKind, normalised: Record<string, unknown>): number {
  if (kind === 'THRESHOLD') return 1;
  const t = normalised.threshold;
  if (typeof t === 'number' && t > 0) return t;
  // A target alert rate leaves threshold null: scale row scores by the kind's default threshold instead
  // (any fixed scale gives the same NAB result, since the threshold is swept).
  const fallback = (DETECTOR_PARAM_SPECS[kind] as Record<string, { default?: unknown }>).threshold?.default;
  if (typeof fallback === 'number' && fallback > 0) return fallback;
  throw new Error(`${kind}: no positive threshold in the params`);
}

/** A verdict's NAB score in [0, 1]: score / (score + theta); 0 while the model was warming up. */
export function nabScore(verdict: Pick<Verdict, 'score'>, theta: number, ready: boolean): number {
  if (!ready) return 0;
  const s = verdict.score;
  return s > 0 ? s / (s + theta) : 0;
}

/** The detector score a NAB threshold t stands for: theta t / (1 - t) (Infinity for t >= 1). */
export function equivalentScore(t: number, theta: number): number {
  return t >= 1 ? Number.POSITIVE_INFINITY : (theta * t) / (1 - t);
}

export interface FileRun {
  scores: Float64Array;
  /** Time spent in the model (observe, ready, the score map), ms. */
  ms: number;
}

/** Runs a fresh detector over one file, row by row, and returns each row's NAB score. */
export function runFile(kind: NabDetectorKind, params: Record<string, unknown>, file: NabFile): FileRun {
  const p = paramsForFile(kind, params, file);
  const model: DetectorModel = createDetector(kind, p, 'value');
  const theta = alertThreshold(kind, normalizeDetectorParams(kind, p, 'params'));
  const state = model.newState();
  const { values, times } = file;
  const n = values.length;
  const scores = new Float64Array(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const ready = model.ready(state);
    const verdict = model.observe(state, values[i] as number, times[i] as number);
    scores[i] = nabScore(verdict, theta, ready);
  }
  return { scores, ms: performance.now() - start };
}

export interface DetectorRun {
  kind: NabDetectorKind;
  /** How the report names the run when one kind runs with several parameter sets (else the kind). */
  label?: string;
  /** The user's params (before per-file defaults). */
  params: Record<string, unknown>;
  /** Theta of the score map for the first file (the same for all files: it comes from the shared params). */
  theta: number;
  /** Per-file NAB scores, in corpus order. */
  scores: Float64Array[];
  rows: number;
  /** Time in the models, ms; and events per second over it. */
  ms: number;
  eventsPerSecond: number;
  /** Per profile: the swept threshold and the corpus score there. */
  results: ProfileResult[];
}

export interface RunOptions {
  /** Called after each file. */
  onFile?: (done: number, total: number, file: NabFile) => void;
}

/** Runs one detector over every file of the corpus and scores it under each profile. */
export function runDetector(
  kind: NabDetectorKind,
  params: Record<string, unknown>,
  files: readonly NabFile[],
  profiles: readonly Profile[],
  options: RunOptions = {},
): DetectorRun {
  if (files.length === 0) throw new Error('no files to run');
  // Validate once up front so a bad --params fails before any work (and names the setting).
  const theta = alertThreshold(kind, normalizeDetectorParams(kind, paramsForFile(kind, params, files[0] as NabFile), 'params'));
  const scores: Float64Array[] = [];
  let ms = 0;
  let rows = 0;
  files.forEach((file, index) => {
    const run = runFile(kind, params, file);
    scores.push(run.scores);
    ms += run.ms;
    rows += file.values.length;
    options.onFile?.(index + 1, files.length, file);
  });
  const series: ScoredSeries[] = files.map((f, i) => ({ name: f.name, scores: scores[i] as Float64Array, windows: f.windows }));
  return {
    kind,
    params,
    theta,
    scores,
    rows,
    ms,
    eventsPerSecond: ms > 0 ? (rows * 1000) / ms : Number.POSITIVE_INFINITY,
    results: scoreDetector(series, profiles),
  };
}
