import { MAX_SCORE } from '../../detectors/format.ts';
import type { Descriptions } from './apply.ts';
import { pageArgs } from './common.ts';

export const ANOMALY_DESCRIPTIONS: Descriptions = {
  Anomaly:
    'A value a detector found anomalous in one event (or an SLA breach), with what was expected, how far off it was, and where it came from.',
  'Anomaly.stream': 'The stream of the event.',
  'Anomaly.detector': 'The detector that found it.',
  'Anomaly.detectorVersion': 'The detector version that found it (see Detector.versions, or `lineage`).',
  'Anomaly.seriesKey': "The event's series (its keyField value, e.g. a host name); null for a stream without keyField.",
  'Anomaly.field': 'The value field judged (for an SLA breach: the measure, e.g. freshnessSeconds).',
  'Anomaly.value': 'The value judged, in the unit of the field.',
  'Anomaly.score': `How anomalous, on the detector kind's scale, to compare with its threshold: sigmas (|z|) for ZSCORE, MAD, EWMA and SEASONAL, -log10 of a probability for LIKELIHOOD, 1 + the distance past the bound / max(|bound|, 1) for THRESHOLD and SLA breaches, gap / maxGapSeconds for FRESHNESS, the share of alarming members for ENSEMBLE. At most ${MAX_SCORE}.`,
  'Anomaly.expected': 'What the detector expected instead (its baseline), in the unit of the field; null when it has none (THRESHOLD, FRESHNESS).',
  'Anomaly.lower': 'Lower end of the normal range at that moment; null when unbounded below.',
  'Anomaly.upper': 'Upper end of the normal range at that moment; null when unbounded above.',
  'Anomaly.severity': 'Severity given by the detector version (or the SLA) that recorded it.',
  'Anomaly.eventTime': "When the event happened: the stream's timestampField, else the Kafka timestamp.",
  'Anomaly.detectedAt': 'When Vigil recorded the anomaly.',
  'Anomaly.source': 'The Kafka message behind it (for an SLA breach: partition -1, offset = evaluation time in ms).',
  'Anomaly.incident': 'The incident it opened or joined; null when none (shadow anomalies never join one).',
  'Anomaly.label': 'What a person said of it (`labelAnomaly`); null until labelled.',

  AnomalyLabel: 'A person\'s verdict on an anomaly; it feeds DetectorStats (precision).',
  'AnomalyLabel.TRUE_POSITIVE': 'A real problem: the detector was right.',
  'AnomalyLabel.FALSE_POSITIVE': 'Not a problem: the detector was wrong (tune it or label more).',

  'Lineage.anomaly': 'The anomaly itself.',
  'Lineage.event': 'The Kafka message it was found in.',
  'Lineage.stream': 'The stream of the event.',
  'Lineage.schemaVersion': 'The version of the stream contract the event was checked against.',
  'Lineage.detector': 'The detector that found it.',
  'Lineage.detectorVersion': 'The exact settings that found it.',
  'Lineage.incident': 'The incident it opened or joined; null when none.',
  'Lineage.executions': 'The runbook executions of that incident, oldest first.',

  AnomalyFilter: 'Which anomalies to list or receive; every condition given must hold.',
  'AnomalyFilter.streamId': 'Only anomalies of this stream.',
  'AnomalyFilter.detectorId': 'Only anomalies of this detector.',
  'AnomalyFilter.seriesKey': 'Only anomalies of this series key (exact match).',
  'AnomalyFilter.minSeverity': 'Only anomalies of this severity or higher (INFO < WARNING < CRITICAL).',
  'AnomalyFilter.since': 'Only anomalies recorded (detectedAt) at or after this time.',

  'Query.anomalies': 'Anomalies matching the filter, a page at a time; shadow ones only with filter.includeShadow. Role: VIEWER.',
  'Query.anomalies(filter)': 'Which anomalies; absent: all but shadow ones.',
  ...pageArgs('Query.anomalies'),
  'Query.anomaly': 'One anomaly by id; null when there is none. Role: VIEWER.',
  'Query.anomaly(id)': 'The anomaly id (ano_...).',
  'Query.lineage': 'Where an anomaly came from (event, contract version, detector version) and what it caused (incident, runbooks). Role: VIEWER. NOT_FOUND (field "anomalyId") when unknown.',
  'Query.lineage(anomalyId)': 'The anomaly id (ano_...).',

  'Mutation.labelAnomaly': 'Records whether an anomaly was a real problem; the label counts in DetectorStats. A new label replaces the old. Role: OPERATOR. NOT_FOUND when unknown.',
  'Mutation.labelAnomaly(id)': 'The anomaly id.',
  'Mutation.labelAnomaly(label)': 'TRUE_POSITIVE or FALSE_POSITIVE.',
  'Mutation.labelAnomaly(note)': 'Why, for whoever tunes the detector; at most 2000 characters.',

  'Subscription.anomalies(filter)': 'Which anomalies to receive; absent: all but shadow ones.',
};
