import type { DetectorKind } from '../generated/prisma/enums.ts';
import { adaptStatistical } from './adapt.ts';
import { createEnsemble } from './ensemble.ts';
import { createEwma } from './ewma.ts';
import { createFreshness } from './freshness.ts';
import { createLikelihood } from './likelihood.ts';
import { createMad } from './mad.ts';
import { DETECTOR_PARAM_SPECS, normalizeDetectorParams } from './params.ts';
import { createSeasonal } from './seasonal.ts';
import { createThreshold } from './threshold.ts';
import { createZScore } from './zscore.ts';

/**
 * Online detectors. A model holds a detector version's settings and no
 * series data; the state of each series is a separate plain JSON object
 * (numbers, arrays of numbers, nulls) that the caller keeps, checkpoints as
 * JSON and hands back through `restore`. Models are pure and deterministic:
 * no I/O, no clock reads (time comes with each call), no randomness.
 */

export interface Verdict {
  /** Normalised, finite, >= 0 (capped at MAX_SCORE). Statistical kinds: deviations in sigmas; THRESHOLD: > 1 on a breach; ENSEMBLE: the alarming share, 0..1. */
  score: number;
  /** False during warm-up. */
  anomalous: boolean;
  /** The baseline value the observation was compared with; null when there is none. */
  expected: number | null;
  /** The band edges at the threshold; null where a side does not alert (direction, open THRESHOLD bound) or no baseline exists yet. */
  lower: number | null;
  upper: number | null;
  /** For a person, e.g. "latency_ms 912 is 6.1 sigma above the 300-event mean 140 (sd 12.6; threshold 4)". */
  explanation: string;
  /**
   * Set on the rare events where the series' drift state changes (statistical
   * kinds with `drift: 'REBASELINE'`, and an ENSEMBLE of them): DETECTED when
   * its input has drifted and the series re-baselines (that event does not
   * alarm), CLEARED on the event that ends the warm-up on the new baseline.
   * Absent on every other event.
   */
  drift?: 'DETECTED' | 'CLEARED';
}

export interface DetectorModel<S = unknown> {
  readonly kind: DetectorKind;
  newState(): S;
  /** Feeds one value observed at `time` (epoch ms); mutates state in place and returns the verdict. */
  observe(state: S, value: number, time: number): Verdict;
  /** Time-driven kinds (FRESHNESS): the verdict for silence up to `now`, or null. Others return null. */
  tick(state: S, now: number): Verdict | null;
  /** True when the next observed value may be anomalous (the series is past warm-up). */
  ready(state: S): boolean;
  /**
   * A state read back from a checkpoint (e.g. `JSON.parse` of the stored
   * JSON), checked for the shape this model writes. Returns it typed;
   * throws DetectorStateError when it cannot be this model's state.
   */
  restore(saved: unknown): S;
  /**
   * True while the series is drifting: from a verdict with drift DETECTED to
   * the one with drift CLEARED. Absent for models without drift detection.
   */
  drifting?(state: S): boolean;
}

/**
 * The model of a detector of `kind` with `params` (as stored: validated and
 * default-filled; they are normalised again here, so missing settings take
 * their defaults and invalid ones throw BadUserInputError). `field` is the
 * value field's name, used in explanations.
 */
export function createDetector(kind: DetectorKind, params: Record<string, unknown>, field: string): DetectorModel {
  const p = normalizeDetectorParams(kind, params, 'params');
  switch (kind) {
    case 'ZSCORE':
      return adaptStatistical(createZScore(p, field), p, statistical(kind)) as DetectorModel;
    case 'MAD':
      return adaptStatistical(createMad(p, field), p, statistical(kind)) as DetectorModel;
    case 'EWMA':
      return adaptStatistical(createEwma(p, field), p, statistical(kind)) as DetectorModel;
    case 'SEASONAL':
      return adaptStatistical(createSeasonal(p, field), p, statistical(kind)) as DetectorModel;
    case 'THRESHOLD':
      return createThreshold(p, field) as DetectorModel;
    case 'FRESHNESS':
      return createFreshness(p, field) as DetectorModel;
    case 'LIKELIHOOD':
      return createLikelihood(p, field) as DetectorModel;
    case 'ENSEMBLE':
      return createEnsemble(p, field, createDetector) as DetectorModel;
    default: {
      const unknown: never = kind;
      throw new Error(`no detector for kind ${JSON.stringify(unknown)}`);
    }
  }
}

/** What the drift and adaptive-threshold layer needs to know of a statistical kind. */
function statistical(kind: DetectorKind): { kind: string; defaultThreshold: number } {
  return { kind, defaultThreshold: DETECTOR_PARAM_SPECS[kind].threshold?.default as number };
}
