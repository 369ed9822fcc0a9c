import type { DetectorSpec } from './catalog.ts';

/** One detector version's state on one partition: a state per series key. */
export interface DetectorPartitionState {
  /** Events before this offset are reflected in `series`. */
  nextOffset: bigint;
  series: Record<string, unknown>;
}

/**
 * What a worker holds for a partition it owns. `committedOffset` is the
 * position of record (PostgreSQL): events before it already had their
 * effects written, and are fed again only to rebuild detector state from an
 * older checkpoint.
 */
export interface PartitionState {
  topic: string;
  partition: number;
  committedOffset: bigint;
  /** The replay epoch this state was restored under (see ConsumerOffset.epoch). */
  epoch: number;
  /** The next offset this worker expects from Kafka. */
  position: bigint;
  /** The last position this worker asked Kafka to seek to, to tell a lagging fetch from a gap in the log. */
  seekedTo?: bigint;
  detectors: Map<string, DetectorPartitionState>;
  eventsSinceCheckpoint: number;
  lastCheckpointAt: number;
  /**
   * A detector started on this partition since the last checkpoint. Its
   * starting point exists only in memory until checkpointed, so the next
   * commit must include a checkpoint (else a restart could not rebuild it).
   */
  uncheckpointedStart: boolean;
  /**
   * For time-driven detectors (FRESHNESS): the latest event of each series,
   * by `${stateKey}|${slot}`, which a silence anomaly names as its source.
   */
  lastEvents: Map<string, LastEvent>;
}

export interface LastEvent {
  offset: bigint;
  key: string | null;
  seriesKey: string | null;
  value: number;
  eventTime: number;
  kafkaTime: number;
  schemaVersion: number;
  traceparent: string | null;
}

/** The key of a series' last event in PartitionState.lastEvents. */
export function lastEventKey(stateKey: string, slot: string): string {
  return `${stateKey}|${slot}`;
}

/** The last event of each series of one detector version, by slot (what its checkpoint keeps). */
export function lastEventsOf(state: PartitionState, stateKey: string): Record<string, LastEvent> {
  const prefix = lastEventKey(stateKey, '');
  const out: Record<string, LastEvent> = {};
  for (const [key, event] of state.lastEvents) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = event;
  return out;
}

/** A partition's state before any event or checkpoint: read from `committedOffset` on, no detector state yet. */
export function emptyPartitionState(topic: string, partition: number, committedOffset = 0n): PartitionState {
  return {
    topic,
    partition,
    committedOffset,
    epoch: 0,
    position: committedOffset,
    detectors: new Map(),
    eventsSinceCheckpoint: 0,
    lastCheckpointAt: 0,
    uncheckpointedStart: false,
    lastEvents: new Map(),
  };
}

/** The series key used inside state objects ("" for a stream with one series). */
export function seriesSlot(seriesKey: string | null): string {
  return seriesKey ?? '';
}

/** The state of a detector version on this partition, created (starting at `offset`) on first use. */
export function detectorState(state: PartitionState, detector: DetectorSpec, offset: bigint): DetectorPartitionState {
  let entry = state.detectors.get(detector.stateKey);
  if (!entry) {
    entry = { nextOffset: offset, series: {} };
    state.detectors.set(detector.stateKey, entry);
    state.uncheckpointedStart = true;
  }
  return entry;
}
