import { BadUserInputError } from '../core/errors.ts';
import { checkNumber, describeValue, type ParamSpecs } from '../core/param-checks.ts';
import { CONTEXT_CHANNELS, type ContextChannel } from './likelihood-context.ts';

/**
 * The settings of the LIKELIHOOD kind (see likelihood.ts), in stored order.
 * The defaults are the one parameter set measured on NAB (`vigil bench nab`).
 */
export const LIKELIHOOD_PARAM_SPECS: ParamSpecs = {
  threshold: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    default: 4,
    description:
      'Surprise at or above which an event is anomalous, in -log10 of a probability (default 4: the recent behaviour had about one chance in 10,000). Higher: fewer, surer alerts.',
  },
  warmup: {
    type: 'integer',
    min: 2,
    max: 200_000,
    default: 300,
    description: 'Events a series must have seen before the detector may alert (default 300); until then it only learns.',
  },
  inputMin: {
    type: 'number',
    default: null,
    nullable: true,
    description:
      'The lowest value the series is expected to take, if known (default null: the range seen so far is used). With inputMax, deviations are measured as shares of inputMax - inputMin.',
  },
  inputMax: {
    type: 'number',
    nullable: true,
    description: 'The highest value the series is expected to take, if known (default null); must exceed inputMin when both are given.',
    check: (value, field, checked) => {
      if (value === undefined || value === null) return null;
      const max = checkNumber(value, field);
      const min = checked.inputMin;
      if (typeof min === 'number' && !(max > min)) throw new BadUserInputError(field, `must be greater than inputMin (${min}) (got ${max})`);
      return max;
    },
  },
  averaging: {
    type: 'integer',
    min: 1,
    max: 1000,
    default: 20,
    description: 'Events in the short average of each raw deviation score that is judged against its long-run distribution (default 20).',
  },
  memory: {
    type: 'integer',
    min: 10,
    max: 1_000_000,
    default: 2000,
    description: 'Approximate number of events the long-run distribution of the averaged scores remembers (default 2000).',
  },
  minSpread: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    max: 1,
    default: 0.01,
    description:
      'Smallest spread of an averaged deviation score, as a share of the range (default 0.01): deviations smaller than about this share of the range are never surprising.',
  },
  novelty: {
    type: 'number',
    min: 0,
    max: 100,
    default: 0.016,
    description:
      'A value beyond the range seen so far by more than this share of the range is anomalous (default 0.016); 100 effectively turns the novelty check off.',
  },
  quiet: {
    type: 'integer',
    min: 0,
    max: 100_000,
    default: 100,
    description: 'Events of silence (score 0) after an alert, while the detector keeps learning (default 100; 0: none).',
  },
  fastAlpha: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    max: 1,
    default: 0.04,
    description: 'Weight of each event in the fast moving average of the value, 0 < fastAlpha <= 1 (default 0.04).',
  },
  slowAlpha: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    max: 1,
    default: 0.01,
    description: 'Weight of each event in the slow moving averages of the value and of its steps, 0 < slowAlpha <= 1 (default 0.01).',
  },
  seasonAlpha: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    max: 1,
    default: 0.25,
    description:
      'Weight of each event in the average of its hour of the week (UTC), 0 < seasonAlpha <= 1 (default 0.25; each hour slot averages its first 1/seasonAlpha events plainly).',
  },
  channels: {
    type: 'array',
    description: `Context channels to add, a list of ${CONTEXT_CHANNELS.join(', ')}: SEASON judges the value against the same time of earlier cycles (hour, day or week, found from the series), FLAT sees a series that stops moving for longer than ever before, DRIFT sees the slow average leave a long baseline, SEQUENCE sees moves the series does not usually make from where it is (a learnt transition model of the value in 64 bins of the range). Absent: none (versions stored before the channels existed keep doing what they did).`,
    check: (value, field) => checkChannels(value, field),
  },
};

/** The `channels` setting: undefined (none) or a list of distinct CONTEXT_CHANNELS. */
function checkChannels(value: unknown, field: string): ContextChannel[] | undefined {
  if (value === undefined) return undefined;
  const known: readonly unknown[] = CONTEXT_CHANNELS;
  if (!Array.isArray(value) || !value.every((c) => known.includes(c)) || new Set(value).size !== value.length) {
    throw new BadUserInputError(field, `must be a list of distinct channels from ${CONTEXT_CHANNELS.join(', ')}, e.g. ["SEASON", "FLAT"] (got ${describeValue(value)})`);
  }
  return value as ContextChannel[];
}
