import type { Descriptions } from './apply.ts';

const THRESHOLD_MEANING =
  'FRESHNESS: most seconds without an event; INGESTION_LAG: most messages behind; ERROR_RATE and ANOMALY_RATE: highest fraction of events, 0 to 1; COMPLETENESS: lowest fraction of valid events, 0 to 1.';

export const SLA_DESCRIPTIONS: Descriptions = {
  Sla:
    'A promise about a stream (fresh, caught up, few errors, complete, few anomalies), checked every VIGIL_SLA_EVALUATION_MS (10 s). A breach is recorded as an anomaly and grouped into an incident like any other, runbooks included; recovery resolves that incident.',
  'Sla.name': 'Name, unique within its stream, 1 to 100 characters.',
  'Sla.stream': 'The stream the promise is about.',
  'Sla.objective': 'What is measured.',
  'Sla.threshold': `The promised bound, in the objective's unit. ${THRESHOLD_MEANING}`,
  'Sla.windowSeconds': 'Seconds of events the rates (ERROR_RATE, COMPLETENESS, ANOMALY_RATE) are computed over; 1 to 2592000 (30 days).',
  'Sla.severity': 'Severity of the breach anomaly, and so of its incident.',
  'Sla.state': 'The last evaluation.',

  SlaObjective: 'What an SLA measures; its threshold is read in that measure\'s unit.',
  'SlaObjective.FRESHNESS':
    'Seconds since the newest event of the stream (with no event ever: since the SLA was registered). Breached above the threshold, in seconds.',
  'SlaObjective.INGESTION_LAG': 'Messages on the topic not yet processed, summed over partitions. Breached above the threshold, in messages.',
  'SlaObjective.ERROR_RATE':
    'Dead letters (malformed, contract violations, oversized) / events over the window. Breached above the threshold, a fraction from 0 to 1.',
  'SlaObjective.COMPLETENESS': 'Valid events / events over the window. Breached below the threshold, a fraction from 0 to 1.',
  'SlaObjective.ANOMALY_RATE':
    'Distinct events some detector found anomalous / events over the window (SHADOW detectors and SLA breaches not counted). Breached above the threshold, a fraction from 0 to 1.',

  SlaState: 'The last evaluation of an SLA.',
  'SlaState.met': 'Whether the promise held at the last evaluation (true before the first). A rate over a window without events is met.',
  'SlaState.current': "The measured value, in the objective's unit; null before the first evaluation or when there was nothing to measure.",
  'SlaState.evaluatedAt': 'When it was last evaluated; null before the first evaluation.',

  RegisterSlaInput: 'An SLA to register (`registerSla`).',
  'RegisterSlaInput.streamId': 'The stream the promise is about. NOT_FOUND when unknown.',
  'RegisterSlaInput.name': 'Name, unique within the stream (CONFLICT when taken), 1 to 100 characters.',
  'RegisterSlaInput.objective': 'What to measure.',
  'RegisterSlaInput.threshold': `The promised bound, >= 0, in the objective's unit. ${THRESHOLD_MEANING}`,
  'RegisterSlaInput.windowSeconds': 'Seconds of events the rates are computed over, 1 to 2592000 (30 days). Required for every objective.',
  'RegisterSlaInput.severity': 'Severity of a breach (default WARNING).',

  'Query.slas': 'SLAs, of every stream or of one. Role: VIEWER.',
  'Query.slas(streamId)': 'Only the SLAs of this stream.',

  'Mutation.registerSla':
    'Registers an SLA; it is evaluated from the next round on. Role: ADMIN. Errors: NOT_FOUND (input.streamId), BAD_USER_INPUT (input.name, input.threshold, input.windowSeconds), CONFLICT (input.name).',
  'Mutation.registerSla(input)': 'The SLA to register.',
};
