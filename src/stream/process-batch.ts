import type { Severity } from '../generated/prisma/enums.ts';
import type { DetectorSpec, StreamSpec } from './catalog.ts';
import type { Verdict } from '../detectors/detector.ts';
import { canaryOf } from './canary.ts';
import { decodeMessage, pgText } from './decode.ts';
import { readPath } from './event-fields.ts';
import { detectorState, lastEventKey, seriesSlot, type LastEvent, type PartitionState } from './partition-state.ts';
import type { IncomingMessage } from './transport.ts';

export interface NewAnomaly {
  streamId: string;
  detectorId: string;
  detectorVersion: number;
  seriesKey: string | null;
  field: string;
  value: number;
  score: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  severity: Severity;
  shadow: boolean;
  eventTime: Date;
  explanation: string;
  topic: string;
  partition: number;
  offset: bigint;
  eventKey: string | null;
  eventTimestamp: Date;
  schemaVersion: number;
  traceparent: string | null;
}

export interface NewDeadLetter {
  streamId: string;
  topic: string;
  partition: number;
  offset: bigint;
  eventKey: string | null;
  eventTimestamp: Date;
  reason: string;
  payload: string;
}

/** A series whose input drifted (the detector re-baselined it), or that finished warming up again. */
export interface DriftChange {
  detectorId: string;
  seriesKey: string | null;
  change: 'DETECTED' | 'CLEARED';
  explanation: string;
}

export interface BatchEffects {
  anomalies: NewAnomaly[];
  deadLetters: NewDeadLetter[];
  drift: DriftChange[];
  /** Events that passed the contract (for rates and completeness). */
  validEvents: number;
  /** The offset after the last message of the batch. */
  nextOffset: bigint;
  /** Synthetic canaries (CANARY_HEADER) read for the first time, with when each was sent: committed, never judged. */
  canaries: { offset: bigint; sentAt: number }[];
}

/**
 * The heart of the worker, with no I/O: decode each message, check its
 * contract, feed each detector on its field and collect the effects to write.
 * Detector state in `state` is updated in place; the caller commits the
 * effects and the new position in one transaction, or discards the state if
 * that fails.
 */
export function processBatch(
  stream: StreamSpec,
  state: PartitionState,
  messages: IncomingMessage[],
  maxEventBytes: number,
): BatchEffects {
  const effects: BatchEffects = { anomalies: [], deadLetters: [], drift: [], validEvents: 0, nextOffset: state.position, canaries: [] };
  for (const message of messages) {
    const offset = BigInt(message.offset);
    if (offset < state.position) continue; // already seen: a refetch after a seek
    effects.nextOffset = offset + 1n;
    // Before the committed offset the effects exist already; the event only rebuilds detector state.
    const replaying = offset < state.committedOffset;
    const canary = canaryOf(message);
    if (canary) {
      // It travels the path (read, committed with the batch) but is no event: no contract, no detector, no dead letter.
      if (!replaying && canary.sentAt !== null) effects.canaries.push({ offset, sentAt: canary.sentAt });
      continue;
    }
    const decoded = decodeMessage(message, stream, maxEventBytes);
    if (!decoded.ok) {
      if (!replaying) {
        effects.deadLetters.push({
          streamId: stream.id,
          topic: stream.topic,
          partition: state.partition,
          offset,
          eventKey: message.key === null ? null : pgText(message.key),
          eventTimestamp: new Date(message.timestamp),
          reason: decoded.reason,
          payload: decoded.payload,
        });
      }
      continue;
    }
    const event = decoded.event;
    if (!replaying) effects.validEvents++;
    for (const detector of stream.detectors) {
      const detectorPartition = detectorState(state, detector, offset);
      if (offset < detectorPartition.nextOffset) continue; // its checkpoint already covers this event
      detectorPartition.nextOffset = offset + 1n;
      const raw = readPath(event.value, detector.fieldPath);
      if (typeof raw !== 'number' || !Number.isFinite(raw)) continue; // the contract allows a missing or null value
      const slot = seriesSlot(event.seriesKey);
      const seriesState = (detectorPartition.series[slot] ??= detector.model.newState());
      const timeDriven = detector.kind === 'FRESHNESS';
      // Silence is about arrival: a time-driven detector reads the Kafka timestamp, not the event's own time.
      const verdict = detector.model.observe(seriesState, raw, timeDriven ? event.kafkaTime : event.eventTime);
      if (verdict.drift && !replaying) {
        effects.drift.push({
          detectorId: detector.id,
          seriesKey: event.seriesKey,
          change: verdict.drift,
          explanation: verdict.explanation,
        });
      }
      const recordAnomaly = verdict.anomalous && !replaying;
      if (!timeDriven && !recordAnomaly) continue; // the common case: nothing to keep
      const source: LastEvent = {
        offset,
        key: event.key,
        seriesKey: event.seriesKey,
        value: raw,
        eventTime: event.eventTime,
        kafkaTime: event.kafkaTime,
        schemaVersion: stream.schemaVersion,
        traceparent: event.traceparent,
      };
      if (timeDriven) state.lastEvents.set(lastEventKey(detector.stateKey, slot), source);
      if (recordAnomaly) effects.anomalies.push(anomalyOf(stream, detector, state.partition, source, verdict));
    }
  }
  return effects;
}

/**
 * Time-driven detectors (FRESHNESS) asked about silence up to `now`: an
 * anomaly per silent series, whose source is the last event heard from it.
 * A series whose last event is unknown (a checkpoint from before they were
 * kept, see checkpoint-format.ts) is skipped: there is no event to name.
 */
export function tickPartition(stream: StreamSpec, state: PartitionState, now: number): NewAnomaly[] {
  const anomalies: NewAnomaly[] = [];
  for (const detector of stream.detectors) {
    if (detector.kind !== 'FRESHNESS') continue;
    const detectorPartition = state.detectors.get(detector.stateKey);
    if (!detectorPartition) continue;
    for (const [slot, seriesState] of Object.entries(detectorPartition.series)) {
      const last = state.lastEvents.get(lastEventKey(detector.stateKey, slot));
      if (!last) continue;
      const verdict = detector.model.tick(seriesState, now);
      if (!verdict?.anomalous) continue;
      anomalies.push(anomalyOf(stream, detector, state.partition, last, verdict));
    }
  }
  return anomalies;
}

/** An anomaly with its lineage: the event behind it and the detector version that judged it. */
function anomalyOf(stream: StreamSpec, detector: DetectorSpec, partition: number, source: LastEvent, verdict: Verdict): NewAnomaly {
  return {
    streamId: stream.id,
    detectorId: detector.id,
    detectorVersion: detector.version,
    seriesKey: source.seriesKey,
    field: detector.field,
    value: source.value,
    score: verdict.score,
    expected: verdict.expected,
    lower: verdict.lower,
    upper: verdict.upper,
    severity: detector.severity,
    shadow: detector.mode === 'SHADOW',
    eventTime: new Date(source.eventTime),
    explanation: verdict.explanation,
    topic: stream.topic,
    partition,
    offset: source.offset,
    eventKey: source.key,
    eventTimestamp: new Date(source.kafkaTime),
    schemaVersion: source.schemaVersion,
    traceparent: source.traceparent,
  };
}
