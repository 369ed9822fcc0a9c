import type { DetectorKind } from '../generated/prisma/enums.ts';
import { BadUserInputError } from '../core/errors.ts';
import {
  assertJsonObject,
  checkInteger,
  checkNumber,
  checkParams,
  describeValue,
  type ParamSpec,
  type ParamSpecs,
} from '../core/param-checks.ts';
import { LIKELIHOOD_PARAM_SPECS } from './likelihood-params.ts';
import { statisticalSpecs, WINDOW } from './statistical-params.ts';

/**
 * Detector settings: what each kind accepts, checked and completed before a
 * detector version is stored. Every stored version states every setting, so
 * a later change of a default never changes what an old version did.
 */

/** Statistical kinds: they learn a baseline and score each value against it. */
export const STATISTICAL_KINDS = ['ZSCORE', 'MAD', 'EWMA', 'SEASONAL'] as const satisfies readonly DetectorKind[];

/**
 * Kinds an ENSEMBLE may combine. FRESHNESS is left out because it fires on
 * missing events, not on values, so it has no per-value verdict to vote with;
 * ENSEMBLE is left out so an ensemble cannot nest (and so cannot recurse).
 */
export const ENSEMBLE_MEMBER_KINDS = [...STATISTICAL_KINDS, 'THRESHOLD', 'LIKELIHOOD'] as const satisfies readonly DetectorKind[];

/** Largest member list of an ENSEMBLE: each member keeps its own state per series. */
export const MAX_ENSEMBLE_MEMBERS = 10;

const COMBINE_MODES = ['WEIGHTED', 'VOTE'] as const;
const THIRTY_DAYS_SECONDS = 30 * 24 * 60 * 60;

/**
 * The settings of each detector kind, in stored order. Exported so API docs
 * can be generated from the same table that does the checking.
 */
export const DETECTOR_PARAM_SPECS: Readonly<Record<DetectorKind, ParamSpecs>> = {
  ZSCORE: statisticalSpecs(4, { window: WINDOW }),
  MAD: statisticalSpecs(5, { window: WINDOW }),
  EWMA: statisticalSpecs(4, {
    alpha: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1,
      default: 0.05,
      description:
        'Weight of each new event in the exponentially weighted mean and variance, 0 < alpha <= 1 (default 0.05; about 2/alpha - 1 events of memory).',
    },
  }),
  SEASONAL: {
    period: {
      type: 'integer',
      min: 2,
      max: 100_000,
      default: 24,
      description: 'Season length in events, e.g. 24 for hourly events with a daily cycle (default 24).',
    },
    alpha: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1,
      default: 0.2,
      description: 'Holt-Winters smoothing of the level, 0 < alpha <= 1 (default 0.2).',
    },
    beta: {
      type: 'number',
      min: 0,
      max: 1,
      default: 0.01,
      description: 'Holt-Winters smoothing of the trend, 0 <= beta <= 1 (default 0.01; 0 keeps the initial trend).',
    },
    gamma: {
      type: 'number',
      min: 0,
      max: 1,
      default: 0.1,
      description: 'Holt-Winters smoothing of the seasonal components, 0 <= gamma <= 1 (default 0.1).',
    },
    ...statisticalSpecs(4, {}),
    warmup: {
      type: 'integer',
      min: 2,
      // Two seasons of the longest period: a warmup must cover at least one full season.
      max: 200_000,
      description:
        'Events a series must have seen before the detector may alert; at least period, so one full season is learnt (default 2 x period).',
      check: (value, field, checked) => {
        const period = checked.period as number;
        if (value === undefined) return 2 * period;
        if (typeof value !== 'number' || !Number.isInteger(value) || value < period || value > 200_000) {
          throw new BadUserInputError(
            field,
            `must be an integer from period (${period}) to 200000, so at least one full season is learnt before alerting (got ${describeValue(value)})`,
          );
        }
        return value;
      },
    },
  },
  THRESHOLD: {
    min: {
      type: 'number',
      default: null,
      nullable: true,
      description: 'Values below min are anomalous; null (default): no lower bound. Give min, max or both.',
    },
    max: {
      type: 'number',
      default: null,
      nullable: true,
      description: 'Values above max are anomalous; null (default): no upper bound. Give min, max or both.',
    },
  },
  LIKELIHOOD: LIKELIHOOD_PARAM_SPECS,
  FRESHNESS: {
    maxGapSeconds: {
      type: 'number',
      required: true,
      min: 0,
      exclusiveMin: true,
      max: THIRTY_DAYS_SECONDS,
      description: `Longest accepted silence of a series, in seconds (> 0, at most ${THIRTY_DAYS_SECONDS} = 30 days); a longer gap is an anomaly.`,
    },
  },
  ENSEMBLE: {
    members: {
      type: 'array',
      required: true,
      description: `1 to ${MAX_ENSEMBLE_MEMBERS} member detectors, each { kind, params?, weight? }; kind is one of ${ENSEMBLE_MEMBER_KINDS.join(', ')}.`,
      check: (value, field) => normalizeMembers(value, field),
    },
    combine: {
      type: 'enum',
      values: COMBINE_MODES,
      default: 'WEIGHTED',
      description:
        'How member verdicts combine: WEIGHTED (default) compares the weight of alarming members to the total weight; VOTE counts alarming members, ignoring weights.',
    },
    threshold: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1,
      default: 0.5,
      description:
        'Share of member alarms (by weight, or by vote) at or above which the ensemble alarms, 0 < threshold <= 1 (default 0.5).',
    },
    warmup: {
      type: 'integer',
      min: 0,
      max: 200_000,
      description:
        'Events a series must have seen before the ensemble may alert (default: the largest member warmup, 0 when no member has one). Members in their own warmup do not vote.',
      check: (value, field, checked) => {
        if (value !== undefined) return checkInteger(value, field, 0, 200_000);
        const members = checked.members as { params: Record<string, unknown> }[];
        return Math.max(0, ...members.map((m) => (typeof m.params.warmup === 'number' ? m.params.warmup : 0)));
      },
    },
  },
};

/** Settings of one ENSEMBLE member, for docs; `params` are those of the member's kind. */
export const ENSEMBLE_MEMBER_SPEC: ParamSpecs = {
  kind: {
    type: 'enum',
    values: ENSEMBLE_MEMBER_KINDS,
    required: true,
    description: `Member detector kind: ${ENSEMBLE_MEMBER_KINDS.join(', ')} (not FRESHNESS or ENSEMBLE).`,
  },
  params: {
    type: 'object',
    default: {},
    description: "The member's own settings, as for a detector of that kind (default {}: all defaults).",
    check: (value, field, checked) => normalizeDetectorParams(checked.kind as DetectorKind, value ?? {}, field),
  },
  weight: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    default: 1,
    description: "The member's weight when combine is WEIGHTED, > 0 (default 1).",
  },
};

/**
 * Checks a detector's params for its kind and returns them completed with
 * defaults, in stored order. `params` must be a JSON object (`undefined` is
 * taken as `{}`, the API's default); unknown settings are refused.
 * Throws BadUserInputError naming the path under `field`.
 */
export function normalizeDetectorParams(
  kind: DetectorKind,
  params: unknown,
  field = 'input.params',
): Record<string, unknown> {
  const specs = DETECTOR_PARAM_SPECS[kind];
  // The kind normally comes from a GraphQL enum; a stored or replayed value might not.
  if (!specs) throw new BadUserInputError(field, `no settings are known for detector kind ${JSON.stringify(kind)}`);
  const out = checkParams(specs, params === undefined ? {} : params, field, kind);
  if (kind === 'THRESHOLD') assertThresholdBounds(out, field);
  if ((STATISTICAL_KINDS as readonly string[]).includes(kind)) resolveThreshold(out, params as Record<string, unknown>, field);
  return out;
}

/**
 * A statistical kind alerts above a fixed `threshold` or above the threshold
 * learnt for a `targetAlertRate`, not both. With a rate, `threshold` is
 * stored as null (so stored params, normalised again, still agree); a rate
 * given beside an explicit threshold is refused, naming both.
 */
function resolveThreshold(out: Record<string, unknown>, raw: Record<string, unknown>, field: string): void {
  const rate = out.targetAlertRate;
  if (typeof rate === 'number') {
    const given = raw.threshold;
    if (given !== undefined && given !== null) {
      throw new BadUserInputError(
        `${field}.targetAlertRate`,
        `cannot be combined with threshold (${describeValue(given)}): give a fixed threshold or a target alert rate (${rate}), not both`,
      );
    }
    out.threshold = null;
  } else if (out.threshold === null) {
    throw new BadUserInputError(
      `${field}.threshold`,
      'must be a number greater than 0 (got null); a null threshold goes with a targetAlertRate',
    );
  }
}

function assertThresholdBounds(out: Record<string, unknown>, field: string): void {
  const { min, max } = out;
  if (min === null && max === null) {
    throw new BadUserInputError(field, 'THRESHOLD needs a bound: give min, max or both, e.g. { "max": 500 }');
  }
  // Equal bounds would flag every value but one: almost certainly a mistake.
  if (typeof min === 'number' && typeof max === 'number' && !(min < max)) {
    throw new BadUserInputError(`${field}.min`, `must be less than max (${max}) (got ${min})`);
  }
}

function normalizeMembers(value: unknown, field: string): Record<string, unknown>[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ENSEMBLE_MEMBERS) {
    throw new BadUserInputError(
      field,
      `must be a list of 1 to ${MAX_ENSEMBLE_MEMBERS} members such as [{ "kind": "ZSCORE" }, { "kind": "MAD", "weight": 2 }] (got ${Array.isArray(value) ? `${value.length} members` : describeValue(value)})`,
    );
  }
  return value.map((member, index) => {
    const path = `${field}[${index}]`;
    const object = assertJsonObject(member, path, '{ "kind": "ZSCORE", "params": {}, "weight": 1 }');
    // Checked before the rest so the message explains why FRESHNESS/ENSEMBLE are refused.
    if (object.kind === 'FRESHNESS' || object.kind === 'ENSEMBLE') {
      throw new BadUserInputError(
        `${path}.kind`,
        `${object.kind} cannot be an ensemble member (${object.kind === 'ENSEMBLE' ? 'ensembles do not nest' : 'it judges gaps, not values'}); accepted: ${ENSEMBLE_MEMBER_KINDS.join(', ')}`,
      );
    }
    return checkParams(ENSEMBLE_MEMBER_SPEC, object, path, 'an ENSEMBLE member');
  });
}
