import type { Severity } from '../generated/prisma/enums.ts';
import type { DetectorSpec, StreamSpec } from './catalog.ts';
import type { Verdict } from '../detectors/detector.ts';
import { canaryOf } from './canary.ts';
import { deadLetterPayload, decodeMessage, eventKeyOf, pgText } from './decode.ts';
import { readPath } from './event-fields.ts';
import { detectorState, lastEventKey, seriesSlot, type LastEvent, type PartitionState } from './partition-state.ts';
import { admitSeries, DEFAULT_SERIES_BOUNDS, forgetSeries, type SeriesBounds } from './series-bounds.ts';
import { SeriesTrails } from './series-trail.ts';
import type { IncomingMessage } from './transport.ts';
import type { MisroutedSample } from './partitioning.ts';
import { silenceFor } from './maintenance-silences.ts';

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
  /** The silence its event time fell in (catalog.ts): recorded, but grouped into no incident. */
  silenceId: string | null;
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
  /** The event that changed it: a batch is committed in pieces by offset when one event's effects are refused (isolate-poison.ts). */
  offset: bigint;
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
  /** Events that some detector did not score because their series is new and its series cap is reached (series-bounds.ts). */
  untrackedEvents: number;
  /** The offset after the last message of the batch. */
  nextOffset: bigint;
  /** Synthetic canaries (CANARY_HEADER) read for the first time, with when each was sent: committed, never judged. */
  canaries: { offset: bigint; sentAt: number }[];
  /** Events whose series key Kafka's Java client would send to another partition (partitioning.ts); absent when none. */
  misrouted?: { count: number; last: MisroutedSample };
  /**
   * Scored values with their expected band, thinned to one a second per series plus anomalies, for the chart
   * (series-points.ts); absent when no event was scored, and on effects put together elsewhere (a batch committed in pieces).
   */
  points?: SeriesTrails;
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
  bounds: SeriesBounds = DEFAULT_SERIES_BOUNDS,
): BatchEffects {
  const points = new SeriesTrails();
  const effects: BatchEffects = { anomalies: [], deadLetters: [], drift: [], validEvents: 0, untrackedEvents: 0, nextOffset: state.position, canaries: [] };
  for (const message of messages) {
    const offset = BigInt(message.offset);
    if (offset < state.position) continue; // already seen: a refetch after a seek
    const next = offset + 1n;
    effects.nextOffset = next;
    // Before the committed offset the effects exist already; the event only rebuilds detector state.
    const replaying = offset < state.committedOffset;
    const canary = canaryOf(message);
    if (canary) {
      // It travels the path (read, committed with the batch) but is no event: no contract, no detector, no dead letter.
      if (!replaying && canary.sentAt !== null) effects.canaries.push({ offset, sentAt: canary.sentAt });
      continue;
    }
    const decoded = decodeMessage(message, stream, maxEventBytes, bounds.maxKeyLength, offset);
    if (!decoded.ok) {
      if (!replaying) effects.deadLetters.push(deadLetterOf(stream, state.partition, message, decoded.reason, decoded.payload));
      continue;
    }
    const event = decoded.event;
    if (!replaying) effects.validEvents++;
    if (!replaying && event.seriesKey !== null) noteMisrouted(effects, stream, state.partition, event.seriesKey);
    let untracked = false;
    let failed = false;
    for (const detector of stream.detectors) {
      const detectorPartition = detectorState(state, detector, offset);
      if (offset < detectorPartition.nextOffset) continue; // its checkpoint already covers this event
      detectorPartition.nextOffset = next;
      const raw = readPath(event.value, detector.fieldPath);
      if (typeof raw !== 'number' || !Number.isFinite(raw)) continue; // the contract allows a missing or null value
      const slot = seriesSlot(event.seriesKey);
      const seriesState = admitSeries(detectorPartition, slot, bounds.maxSeriesPerDetector, detector.model);
      if (seriesState === undefined) {
        untracked = true;
        continue;
      }
      const timeDriven = detector.kind === 'FRESHNESS';
      let verdict: Verdict;
      try {
        // Silence is about arrival: a time-driven detector reads the Kafka timestamp, not the event's own time.
        verdict = detector.model.observe(seriesState, raw, timeDriven ? event.kafkaTime : event.eventTime);
      } catch (error) {
        // Thrown once, thrown on every retry: the event becomes a dead letter. The series state may be half
        // updated, so it starts afresh; replays throw on the same event and reset it the same way.
        forgetSeries(detectorPartition, slot);
        if (!replaying && !failed) {
          const cause = error instanceof Error ? error.message : String(error);
          const reason = pgText(`detector "${detector.name}" (v${detector.version}) failed on this event: ${cause}; its series starts afresh`);
          effects.deadLetters.push(deadLetterOf(stream, state.partition, message, reason, deadLetterPayload(message.value ?? Buffer.alloc(0))));
        }
        failed = true;
        continue;
      }
      if (verdict.drift && !replaying) {
        effects.drift.push({
          offset,
          detectorId: detector.id,
          seriesKey: event.seriesKey,
          change: verdict.drift,
          explanation: verdict.explanation,
        });
      }
      // Silence detectors judge arrival, not the value: their band would mean nothing beside it.
      if (!replaying && !timeDriven) points.note(detector.id, event.seriesKey, event.eventTime, raw, verdict);
      const recordAnomaly = verdict.anomalous && !replaying;
      if (!timeDriven && !recordAnomaly) continue; // the common case: nothing to keep
      const source: LastEvent = {
        offset,
        key: eventKeyOf(message),
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
    if (untracked && !replaying) effects.untrackedEvents++;
    if (failed && !replaying) dropEffectsOf(effects, offset);
  }
  if (points.size > 0) effects.points = points;
  return effects;
}

/** Counts an event that arrived on another partition than its series key hashes to: its series is split. */
function noteMisrouted(effects: BatchEffects, stream: StreamSpec, partition: number, seriesKey: string): void {
  if (!stream.partitionCheck || !stream.partitions) return;
  const expected = stream.partitionCheck.misrouted(seriesKey, partition, stream.partitions);
  if (expected === undefined) return;
  const last = { seriesKey, partition, expected, at: Date.now() };
  effects.misrouted = { count: (effects.misrouted?.count ?? 0) + 1, last };
}

/**
 * A dead letter stands for the whole event: what other detectors found in it
 * is dropped too, so reprocessing the dead letter later cannot record it twice.
 */
function dropEffectsOf(effects: BatchEffects, offset: bigint): void {
  effects.validEvents--;
  while (effects.anomalies.at(-1)?.offset === offset) effects.anomalies.pop();
  while (effects.drift.at(-1)?.offset === offset) effects.drift.pop();
}

function deadLetterOf(stream: StreamSpec, partition: number, message: IncomingMessage, reason: string, payload: string): NewDeadLetter {
  return {
    streamId: stream.id,
    topic: stream.topic,
    partition,
    offset: BigInt(message.offset),
    eventKey: eventKeyOf(message),
    eventTimestamp: new Date(message.timestamp),
    reason,
    payload,
  };
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
    silenceId: silenceFor(stream.silences, detector.id, source.seriesKey, source.eventTime),
  };
}
