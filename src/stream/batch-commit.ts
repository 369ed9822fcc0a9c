import type { Db } from '../store/db.ts';
import type { GroupingContext } from '../incidents/writer.ts';
import type { StreamSpec } from './catalog.ts';
import { deadLetterPayload, eventKeyOf, pgText } from './decode.ts';
import { commitBatch, type CheckpointRow, type CommitResult } from './effects-store.ts';
import { classifyError } from './error-class.ts';
import { commitIsolatingPoison, type Poisoned } from './isolate-poison.ts';
import { lastEventsOf, type PartitionState } from './partition-state.ts';
import type { BatchEffects, NewDeadLetter } from './process-batch.ts';
import type { IncomingMessage } from './transport.ts';

export interface BatchCommit extends CommitResult {
  /** Events whose effects the database refused: each is now a dead letter naming the database's reason. */
  poisoned: NewDeadLetter[];
}

export interface BatchSource {
  streamId: string;
  position: { topic: string; partition: number; epoch: number };
  messages: IncomingMessage[];
}

/**
 * A batch's effects and offset committed as by commitBatch, except that an
 * event whose effects the database refuses for good (isolate-poison.ts)
 * becomes a dead letter and the rest of the batch is committed without it.
 */
export async function commitBatchIsolatingPoison(
  db: Db,
  groupId: string,
  source: BatchSource,
  effects: BatchEffects,
  checkpoints: CheckpointRow[],
  grouping: Omit<GroupingContext, 'now'>,
): Promise<BatchCommit> {
  const poisoned: NewDeadLetter[] = [];
  const write = (piece: BatchEffects, last: boolean) => commitBatch(db, groupId, source.position, piece, last ? checkpoints : [], grouping);
  const isolation = await commitIsolatingPoison(effects, {
    commit: write,
    classify: classifyError,
    commitPoison: async (poison, nextOffset, last) => {
      const letter = poisonLetter(source, poison);
      const only = (deadLetter: NewDeadLetter): BatchEffects => ({ ...NO_EFFECTS, deadLetters: [deadLetter], nextOffset });
      let result: CommitResult;
      try {
        result = await write(only(letter), last);
      } catch (error) {
        if (classifyError(error).retriable) throw error;
        // Whatever the database refused is in the event itself: keep the reason and the source, not the event.
        result = await write(only({ ...letter, eventKey: null, payload: '' }), last);
      }
      poisoned.push(letter);
      return result;
    },
  });
  return { ...mergeResults(isolation.results), poisoned };
}

const NO_EFFECTS: BatchEffects = { anomalies: [], deadLetters: [], drift: [], validEvents: 0, untrackedEvents: 0, nextOffset: 0n, canaries: [] };

function poisonLetter(source: BatchSource, poison: Poisoned): NewDeadLetter {
  const message = source.messages.find((m) => BigInt(m.offset) === poison.offset);
  return {
    streamId: source.streamId,
    topic: source.position.topic,
    partition: source.position.partition,
    offset: poison.offset,
    eventKey: message ? eventKeyOf(message) : null,
    eventTimestamp: new Date(message?.timestamp ?? Date.now()),
    reason: pgText(`its effects could not be written: ${poison.reason}`),
    payload: message ? deadLetterPayload(message.value ?? Buffer.alloc(0)) : '',
  };
}

function mergeResults(results: CommitResult[]): CommitResult {
  const merged: CommitResult = { anomalies: [], deadLetters: [], incidentIds: new Set(), executionIds: [] };
  for (const result of results) {
    merged.anomalies.push(...result.anomalies);
    merged.deadLetters.push(...result.deadLetters);
    for (const id of result.incidentIds) merged.incidentIds.add(id);
    merged.executionIds.push(...result.executionIds);
  }
  return merged;
}

/** Each current detector version's state on the partition, to checkpoint; versions no longer current are forgotten. */
export function checkpointRows(stream: StreamSpec, state: PartitionState): CheckpointRow[] {
  const rows: CheckpointRow[] = [];
  for (const detector of stream.detectors) {
    const entry = state.detectors.get(detector.stateKey);
    if (!entry) continue;
    rows.push({
      detectorId: detector.id,
      version: detector.version,
      state: entry,
      ...(detector.kind === 'FRESHNESS' ? { sources: lastEventsOf(state, detector.stateKey) } : {}),
    });
  }
  const current = new Set(stream.detectors.map((d) => d.stateKey));
  for (const stateKey of [...state.detectors.keys()]) if (!current.has(stateKey)) state.detectors.delete(stateKey);
  return rows;
}
