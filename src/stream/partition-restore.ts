import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import type { StreamSpec } from './catalog.ts';
import { loadPartition, type RestoredCheckpoint } from './effects-store.ts';
import { emptyPartitionState, lastEventKey, type DetectorPartitionState, type PartitionState } from './partition-state.ts';
import type { EventConsumer, TopicPartition } from './transport.ts';

const keyOf = (topic: string, partition: number) => `${topic}:${partition}`;

/** How often detector state is checkpointed: at least every this many events per partition, or this often. */
export interface CheckpointPolicy {
  checkpointEvents: number;
  checkpointIntervalMs: number;
}

/**
 * The position and detector state of each partition the worker owns,
 * restored from PostgreSQL on first use and forgotten whenever they may have
 * run ahead of what was committed (a failed batch, a replay, a rebalance):
 * the next use restores them again.
 */
export class PartitionStates {
  private readonly byKey = new Map<string, Promise<PartitionState>>();

  constructor(
    private readonly db: Db,
    private readonly consumerGroup: string,
    private readonly log: Logger,
  ) {}

  get(stream: StreamSpec, partition: number): Promise<PartitionState> {
    const key = keyOf(stream.topic, partition);
    let state = this.byKey.get(key);
    if (!state) {
      state = restorePartition(this.db, this.consumerGroup, stream, partition, this.log);
      state.catch(() => this.byKey.delete(key));
      this.byKey.set(key, state);
    }
    return state;
  }

  forget(topic: string, partition: number): void {
    this.byKey.delete(keyOf(topic, partition));
  }

  /** Another member may have moved every partition on meanwhile (the worker rejoined the group). */
  clear(): void {
    this.byKey.clear();
  }

  /** Keeps only the partitions the group now assigns to this worker. */
  retain(owned: readonly TopicPartition[]): void {
    const keys = new Set(owned.map((a) => keyOf(a.topic, a.partition)));
    for (const key of [...this.byKey.keys()]) if (!keys.has(key)) this.byKey.delete(key);
  }

  /** replayStream: the partitions are restored from PostgreSQL again and re-read from their position of record. */
  async replay(stream: StreamSpec, partitions: readonly number[], consumer: EventConsumer | undefined): Promise<void> {
    for (const partition of partitions) {
      this.forget(stream.topic, partition);
      const state = await this.get(stream, partition).catch((error: unknown) => {
        this.log.warn({ topic: stream.topic, partition, err: error }, 'partition not restored for a replay; its next batch restores it');
        return undefined;
      });
      if (state) seekToPosition(state, consumer, { force: true });
    }
  }
}

/**
 * Asks Kafka for the partition's position of record, once per position: a
 * second ask for the same one would loop forever when Kafka has nothing older
 * (retention deleted it). Returns whether it asked.
 */
export function seekToPosition(state: PartitionState, consumer: EventConsumer | undefined, options: { force?: boolean } = {}): boolean {
  if (!options.force && state.seekedTo === state.position) return false;
  state.seekedTo = state.position;
  consumer?.seek(state.topic, state.partition, state.position.toString());
  return true;
}

/** Position of record and detector checkpoints; reading restarts at the oldest point any detector needs. */
export async function restorePartition(db: Db, consumerGroup: string, stream: StreamSpec, partition: number, log: Logger): Promise<PartitionState> {
  const restored = await loadPartition(db, consumerGroup, stream.topic, partition);
  const committedOffset = restored.committedOffset ?? 0n;
  const state: PartitionState = { ...emptyPartitionState(stream.topic, partition, committedOffset), epoch: restored.epoch, lastCheckpointAt: Date.now() };
  for (const detector of stream.detectors) {
    const checkpoint = restored.checkpoints.get(detector.stateKey);
    const entry = validCheckpoint(detector, checkpoint, log);
    state.detectors.set(detector.stateKey, entry ?? { nextOffset: committedOffset, series: {} });
    // A series silent since the checkpoint still has an event to name (events replayed from it replace these).
    if (entry && checkpoint) for (const [slot, event] of Object.entries(checkpoint.sources)) state.lastEvents.set(lastEventKey(detector.stateKey, slot), event);
    if (entry && entry.nextOffset < state.position) state.position = entry.nextOffset;
    if (!entry && committedOffset > 0n) state.uncheckpointedStart = true;
  }
  log.info({ topic: stream.topic, partition, committedOffset: committedOffset.toString(), position: state.position.toString() }, 'partition restored');
  return state;
}

/** A checkpoint whose every series state this detector can load, else none (logged: the detector starts afresh). */
function validCheckpoint(detector: StreamSpec['detectors'][number], checkpoint: RestoredCheckpoint | undefined, log: Logger): DetectorPartitionState | undefined {
  if (!checkpoint) return undefined;
  try {
    // fromEntries defines own properties: a series keyed "__proto__" must not write Object.prototype.
    const series = Object.fromEntries(Object.entries(checkpoint.series).map(([slot, saved]) => [slot, detector.model.restore(saved)]));
    return { nextOffset: checkpoint.nextOffset, series };
  } catch (error) {
    log.error({ detectorId: detector.id, err: error }, 'checkpoint does not load; the detector starts afresh');
    return undefined;
  }
}

/** Whether this batch's commit should carry checkpoints (a start without one always does). */
export function checkpointDue(state: PartitionState, policy: CheckpointPolicy, now = Date.now()): boolean {
  return state.uncheckpointedStart || state.eventsSinceCheckpoint >= policy.checkpointEvents || now - state.lastCheckpointAt >= policy.checkpointIntervalMs;
}

/** After a commit that carried checkpoints. */
export function checkpointCommitted(state: PartitionState, now = Date.now()): void {
  state.eventsSinceCheckpoint = 0;
  state.lastCheckpointAt = now;
  state.uncheckpointedStart = false;
}
