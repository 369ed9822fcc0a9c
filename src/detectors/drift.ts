import { fmt } from './format.ts';
import { checkNumber, DetectorStateError, type Plain } from './state-check.ts';

/**
 * Drift detection for the statistical kinds: a two-sided Page-Hinkley test,
 * O(1) time and ten numbers per series.
 *
 * What is tested. Each event past warm-up gives a residual r = value -
 * expected, where expected is the detector's own baseline before the value
 * joins it (ZSCORE's window mean, MAD's median, EWMA's moving average,
 * SEASONAL's forecast). The test asks whether the residuals have left their
 * usual level for good, i.e. whether the detector's baseline has stopped
 * describing the input, which is the question a re-baseline answers. Testing
 * the residual rather than the raw value is what keeps a seasonal swing that
 * SEASONAL forecasts from looking like drift. A kind that follows a level
 * change by itself (EWMA, SEASONAL's level) only drifts when the change is
 * too large or too fast for it to follow.
 *
 * Normalisation. r is centred and scaled by the test's own reference: a
 * running centre of r (which also absorbs a fixed offset, such as mean minus
 * median of a skewed input under MAD), a running mean absolute deviation
 * times sqrt(pi/2) (sigma for normal data), and the lag-1 autocorrelation phi
 * of the residuals. Sums of autocorrelated residuals wander further than
 * sums of independent ones, by sqrt((1 + phi) / (1 - phi)) under an AR(1)
 * approximation, so the test divides by that long-run scale: on independent
 * residuals it is sigma; on a strongly autocorrelated series (a slowly
 * wandering metric, or a cycle that ZSCORE's window lags behind) it is
 * several sigmas, and the slow wander is not taken for drift. The reference
 * averages over all residuals since the series started or was re-baselined,
 * then over about the last DRIFT_MEMORY, so it follows a slow change of
 * scale but barely moves during the few dozen events a detection takes.
 * With z = (r - centre) / long-run scale in sigmas, one parameter set works
 * for latencies in milliseconds and for byte counts alike.
 *
 * The test. z is clipped to +-c, and the Page-Hinkley statistics in their
 * recursive (Lindley) form, equal to m_t - min m_s of the textbook form, are
 *   up   = max(0, up   + z - DRIFT_TOLERANCE)
 *   down = max(0, down - z - DRIFT_TOLERANCE)
 * Drift is declared when one of them exceeds `threshold` (lambda). The clip
 * c = min(DRIFT_CLIP, DRIFT_TOLERANCE + lambda / minEvents) bounds what one
 * event can add to lambda / minEvents, so no change that lasts fewer than
 * `minEvents` events can be declared drift, however extreme: a spike, or an
 * outage of a few minutes, is an anomaly to alert on, not a baseline to
 * adopt; after such a burst the statistic only decays. The same clipped
 * deviation teaches the reference, so a spike inflates neither its centre
 * nor its scale, and the centre settles where clipped deviations average 0
 * (a Huber-type centre), so a skewed input does not tilt the test.
 *
 * Why Page-Hinkley and not ADWIN. ADWIN (exponential-histogram buckets,
 * O(log W) time and memory) was considered: it needs no tolerance and
 * estimates the change point, but its cut test is a Hoeffding/Bernstein
 * bound over a known value range R, which residuals do not have; with
 * clipped z (R = 2c) the bound needs windows of hundreds of events to
 * separate means a sigma or two apart, where Page-Hinkley needs a few dozen;
 * it assumes independent values (no long-run correction); and it would put
 * about a hundred more numbers into every series' checkpoint. Page-Hinkley
 * is the better fit for "a step of a few sigmas that persists", with state
 * that is ten plain numbers.
 *
 * Limits. It tests the level of the residual, not its spread: a series that
 * only gets noisier is not flagged. An outlier extreme enough to wreck a
 * non-robust baseline for longer than `minEvents` (a spike of a few hundred
 * sigmas in EWMA's average, or an incident long and high enough to pull
 * ZSCORE's window mean by well over a sigma) leaves the residuals shifted for
 * as long as that baseline is wrong, and the test re-baselines it: a repair,
 * sooner than waiting for the window to forget (MAD, robust, is unaffected). A periodic input given to a non-seasonal
 * kind, with flat stretches longer than `minEvents`, shows a real level
 * change at each stretch; use SEASONAL for such inputs.
 */

/**
 * Excess over which each event's z counts, in (long-run) sigmas: half of the
 * 1.5-sigma shift the test is tuned for. Smaller shifts do not make a
 * detector alert, so re-baselining for them would only cost a warm-up; and a
 * short incident that pulls a window mean by less than this much (25 events
 * of 12 sigma in a 300-event ZSCORE window pull it by 1 sigma) is not drift.
 */
export const DRIFT_TOLERANCE = 0.75;
/** Largest clip of z, in sigmas: a deviation teaches the reference at most this much. */
export const DRIFT_CLIP = 5;
/** Residuals that only learn the reference before the statistics accumulate. */
export const DRIFT_LEARN = 30;
/** The reference averages over about this many residuals at most. */
export const DRIFT_MEMORY = 1000;
/** Largest lag-1 autocorrelation the long-run scale allows for (a factor of about 14 on sigma). */
export const DRIFT_MAX_PHI = 0.99;
/** Default lambda (`driftThreshold`). */
export const DRIFT_THRESHOLD_DEFAULT = 50;
/** Default `driftMinEvents`. */
export const DRIFT_MIN_EVENTS_DEFAULT = 30;
/** sqrt(pi/2): mean absolute deviation of a normal distribution times this is its sigma. */
const MEAN_ABS_TO_SIGMA = Math.sqrt(Math.PI / 2);

/** Drift-test settings of a detector version. */
export interface DriftSettings {
  /** lambda: accumulated excess, in sigmas, at which drift is declared. */
  threshold: number;
  /** The fewest events a change must last to be declared drift. */
  minEvents: number;
  /** The clip of z, from the two above (see the file comment). */
  clip: number;
}

export function driftSettings(threshold = DRIFT_THRESHOLD_DEFAULT, minEvents = DRIFT_MIN_EVENTS_DEFAULT): DriftSettings {
  return { threshold, minEvents, clip: Math.min(DRIFT_CLIP, DRIFT_TOLERANCE + threshold / minEvents) };
}

/**
 * The test's state, kept as plain fields of the series state (the names are
 * prefixed so they cannot collide with a kind's own fields).
 */
export interface DriftState {
  /** Residuals seen since the series started or was re-baselined (past warm-up). */
  driftSeen: number;
  /** Reference centre of the residual. */
  driftMean: number;
  /** Reference mean absolute deviation from the centre. */
  driftDev: number;
  /** Reference mean of squared deviations and of lag-1 products (their ratio is phi). */
  driftVar: number;
  driftCov: number;
  /** The last clipped deviation, for the lag-1 product. */
  driftPrev: number;
  /** Page-Hinkley statistics for a rise and a fall, >= 0. */
  driftUp: number;
  driftDown: number;
  /** Events each statistic has been above zero in a row (for the explanation). */
  driftUpRun: number;
  driftDownRun: number;
}

export const DRIFT_STATE_KEYS = [
  'driftSeen',
  'driftMean',
  'driftDev',
  'driftVar',
  'driftCov',
  'driftPrev',
  'driftUp',
  'driftDown',
  'driftUpRun',
  'driftDownRun',
] as const;

/** A detected drift: which way the level went, for how long, and the statistic. */
export interface DriftFinding {
  side: 'UP' | 'DOWN';
  /** Events the statistic had been above zero: about how long ago the change began. */
  run: number;
  statistic: number;
}

/** Resets the test (a new series, or after a re-baseline). */
export function resetDrift(s: DriftState): void {
  s.driftSeen = 0;
  s.driftMean = 0;
  s.driftDev = 0;
  s.driftVar = 0;
  s.driftCov = 0;
  s.driftPrev = 0;
  s.driftUp = 0;
  s.driftDown = 0;
  s.driftUpRun = 0;
  s.driftDownRun = 0;
}

export function newDriftState(): DriftState {
  const s = {} as DriftState;
  resetDrift(s);
  return s;
}

/**
 * Feeds one residual (value - expected; `expected` floors the scale for a
 * constant series) and returns the drift found, or null. Resets nothing:
 * the caller re-baselines and calls resetDrift.
 */
export function updateDrift(s: DriftState, residual: number, expected: number, settings: DriftSettings): DriftFinding | null {
  const k = s.driftSeen;
  s.driftSeen = k + 1;
  if (k === 0) {
    s.driftMean = residual;
    return null;
  }
  const centre = s.driftMean;
  const d = residual - centre;
  // The same floor as the detectors' scales (stats.ts floorScale): a constant series has no spread.
  const sigma = Math.max(MEAN_ABS_TO_SIGMA * s.driftDev, 1e-9, 1e-9 * Math.abs(expected));
  const phiRaw = s.driftVar > 0 ? s.driftCov / s.driftVar : 0;
  const phi = phiRaw > DRIFT_MAX_PHI ? DRIFT_MAX_PHI : phiRaw > 0 ? phiRaw : 0;
  const longRun = sigma * Math.sqrt((1 + phi) / (1 - phi));
  const limit = settings.clip * longRun;
  // While learning, the deviations are taken whole: the scale is still unknown.
  const dc = k < DRIFT_LEARN ? d : d > limit ? limit : d < -limit ? -limit : d;

  if (k >= DRIFT_LEARN) {
    const z = dc / longRun;
    const up = s.driftUp + z - DRIFT_TOLERANCE;
    if (up > 0) {
      s.driftUp = up;
      s.driftUpRun += 1;
    } else {
      s.driftUp = 0;
      s.driftUpRun = 0;
    }
    const down = s.driftDown - z - DRIFT_TOLERANCE;
    if (down > 0) {
      s.driftDown = down;
      s.driftDownRun += 1;
    } else {
      s.driftDown = 0;
      s.driftDownRun = 0;
    }
  }

  // The reference: plain running averages at first, then exponentially weighted.
  const rate = k < DRIFT_MEMORY ? 1 / k : 1 / DRIFT_MEMORY;
  s.driftDev += rate * ((dc < 0 ? -dc : dc) - s.driftDev);
  s.driftVar += rate * (dc * dc - s.driftVar);
  s.driftCov += rate * (dc * s.driftPrev - s.driftCov);
  s.driftPrev = dc;
  s.driftMean = centre + (k < DRIFT_MEMORY ? 1 / (k + 1) : 1 / DRIFT_MEMORY) * dc;

  if (s.driftUp > settings.threshold) return { side: 'UP', run: s.driftUpRun, statistic: s.driftUp };
  if (s.driftDown > settings.threshold) return { side: 'DOWN', run: s.driftDownRun, statistic: s.driftDown };
  return null;
}

/** For a person: "drift detected: values have run above the baseline for 31 events (Page-Hinkley 50.8 > 50)". */
export function describeDrift(f: DriftFinding, settings: DriftSettings): string {
  const side = f.side === 'UP' ? 'above' : 'below';
  return `drift detected: values have run ${side} the baseline for ${f.run} events (Page-Hinkley ${fmt(f.statistic, 3)} > ${fmt(settings.threshold)})`;
}

/**
 * The test's fields read back from a checkpoint. A state saved before drift
 * detection was turned on has none of them: the test starts afresh.
 */
export function restoreDrift(kind: string, o: Plain): DriftState {
  if (DRIFT_STATE_KEYS.every((key) => o[key] === undefined)) return newDriftState();
  const s: DriftState = {
    driftSeen: checkNumber(kind, o, 'driftSeen', { integer: true, min: 0 }),
    driftMean: checkNumber(kind, o, 'driftMean'),
    driftDev: checkNumber(kind, o, 'driftDev', { min: 0 }),
    driftVar: checkNumber(kind, o, 'driftVar', { min: 0 }),
    driftCov: checkNumber(kind, o, 'driftCov'),
    driftPrev: checkNumber(kind, o, 'driftPrev'),
    driftUp: checkNumber(kind, o, 'driftUp', { min: 0 }),
    driftDown: checkNumber(kind, o, 'driftDown', { min: 0 }),
    driftUpRun: checkNumber(kind, o, 'driftUpRun', { integer: true, min: 0 }),
    driftDownRun: checkNumber(kind, o, 'driftDownRun', { integer: true, min: 0 }),
  };
  if (s.driftUpRun > s.driftSeen || s.driftDownRun > s.driftSeen) {
    throw new DetectorStateError(kind, 'a drift run is longer than the residuals seen');
  }
  return s;
}
