import { checkInteger, checkNumber, type ParamSpec, type ParamSpecs } from '../core/param-checks.ts';
import { DRIFT_MIN_EVENTS_DEFAULT, DRIFT_THRESHOLD_DEFAULT } from './drift.ts';

/**
 * The settings the statistical kinds (ZSCORE, MAD, EWMA, SEASONAL) share:
 * threshold, warm-up, direction, and drift and adaptive thresholds
 * (adapt.ts). params.ts assembles them with each kind's own.
 */

const DIRECTIONS = ['BOTH', 'UP', 'DOWN'] as const;
const DRIFT_MODES = ['OFF', 'REBASELINE'] as const;

/** The settings every statistical kind shares, after its own (`specific`). */
export function statisticalSpecs(thresholdDefault: number, specific: ParamSpecs): ParamSpecs {
  return {
    ...specific,
    threshold: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      default: thresholdDefault,
      nullable: true,
      description: `Anomaly score above which an event is anomalous (default ${thresholdDefault}). Higher: fewer, surer alerts. Stored as null when targetAlertRate is given instead.`,
      // null is accepted here and judged with targetAlertRate (normalizeDetectorParams): null only goes with a target rate.
      check: (value, field) =>
        value === undefined ? thresholdDefault : value === null ? null : checkNumber(value, field, { min: 0, exclusiveMin: true }),
    },
    warmup: {
      type: 'integer',
      min: 1,
      max: 10_000,
      default: 30,
      description:
        'Events a series must have seen before the detector may alert (default 30); until then it only learns its baseline.',
    },
    direction: {
      type: 'enum',
      values: DIRECTIONS,
      default: 'BOTH',
      description: 'Which deviations count: UP (above the expected value), DOWN (below) or BOTH (default).',
    },
    ...ADAPTIVE_SPECS,
  };
}

/**
 * Settings of drift detection and adaptive thresholds (adapt.ts), common to
 * the statistical kinds. None has a stored default: an absent setting means
 * "off", now and in every later release, so the versions stored before these
 * settings existed keep doing exactly what they did.
 *
 * Why drift is OFF unless asked for: a re-baseline throws the baseline away
 * (the series is blind for a warm-up, and a SEASONAL series for a whole
 * season), and real metrics are often autocorrelated, where runs of
 * same-signed residuals are common. Turned on, the defaults are conservative:
 * lambda 50 sigmas of accumulated excess (stationary normal noise essentially
 * never gets there), and a change must have lasted 30 events in a row, so
 * spikes and short incidents stay anomalies and only a lasting change becomes
 * the new normal.
 */
const ADAPTIVE_SPECS: ParamSpecs = {
  targetAlertRate: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    max: 0.5,
    description:
      'Instead of a fixed threshold: the share of events that should alert, 0 < rate <= 0.5 (e.g. 0.001). The detector learns the (1 - rate) quantile of its own scores per series and alerts above it (never below 1 sigma; the default threshold applies until 10/rate scores are seen). Not with threshold.',
  },
  drift: {
    type: 'enum',
    values: DRIFT_MODES,
    description:
      'Drift handling: OFF (the default when absent) or REBASELINE: when a Page-Hinkley test finds that the values have left the baseline for good, the series drops its baseline and learns the new level (warming up again); the verdict says drift DETECTED, then CLEARED when the series may alert again.',
  },
  driftThreshold: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    max: 1_000_000,
    description: `Drift test lambda: accumulated excess, in sigmas of the residual, beyond which the level has drifted (default ${DRIFT_THRESHOLD_DEFAULT}; stored when drift is REBASELINE). Higher: fewer, later re-baselines.`,
    check: (value, field, checked) => {
      if (value !== undefined) return checkNumber(value, field, { min: 0, exclusiveMin: true, max: 1_000_000 });
      return checked.drift === 'REBASELINE' ? DRIFT_THRESHOLD_DEFAULT : undefined;
    },
  },
  driftMinEvents: {
    type: 'integer',
    min: 1,
    max: 100_000,
    description: `Events in a row a change must have lasted before it counts as drift rather than an incident (default ${DRIFT_MIN_EVENTS_DEFAULT}; stored when drift is REBASELINE).`,
    check: (value, field, checked) => {
      if (value !== undefined) return checkInteger(value, field, 1, 100_000);
      return checked.drift === 'REBASELINE' ? DRIFT_MIN_EVENTS_DEFAULT : undefined;
    },
  },
};

/** The baseline window of ZSCORE and MAD. */
export const WINDOW: ParamSpec = {
  type: 'integer',
  min: 5,
  max: 100_000,
  default: 300,
  description: 'Number of most recent events the baseline is computed over (default 300).',
};

