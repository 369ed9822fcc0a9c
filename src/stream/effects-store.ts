import type { Db, Prisma } from '../store/db.ts';
import type { Anomaly, DeadLetter } from '../generated/prisma/client.ts';
import { newId } from '../core/ids.ts';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-format.ts';
import type { DetectorPartitionState, LastEvent } from './partition-state.ts';
import type { BatchEffects } from './process-batch.ts';
import { groupAnomalies, type GroupingContext } from '../incidents/writer.ts';
import { recordDrift } from '../incidents/drift-notices.ts';

export interface CheckpointRow {
  detectorId: string;
  version: number;
  state: DetectorPartitionState;
  /** Time-driven detectors: the last event of each series (see checkpoint-format.ts). */
  sources?: Record<string, LastEvent>;
}

export interface CommitResult {
  /** Only rows this commit created: a replayed event's anomaly already exists and is not announced twice. */
  anomalies: Anomaly[];
  deadLetters: DeadLetter[];
  /** Incidents opened or changed, and runbook executions written (the outbox). */
  incidentIds: Set<string>;
  executionIds: string[];
}

/** Kept per detector version and partition; older ones are pruned as new ones are written. */
export const CHECKPOINTS_KEPT = 5;

/** The partition was replayed after this worker restored it: the batch must be dropped and the partition restored again. */
export class ReplayedError extends Error {
  constructor(topic: string, partition: number) {
    super(`partition ${topic}/${partition} was replayed; restoring it again`);
    this.name = 'ReplayedError';
  }
}

/**
 * Writes one batch's effects and the partition's next offset in ONE
 * transaction (one statement when the offset is all that moves): either all
 * of it happened or none, which is what makes a worker killed at any
 * instant safe to restart. Unique constraints make a
 * repeated write a no-op; offsets and checkpoints only move forward.
 */
export async function commitBatch(
  db: Db,
  groupId: string,
  position: { topic: string; partition: number; epoch: number },
  effects: BatchEffects,
  checkpoints: CheckpointRow[],
  grouping?: Omit<GroupingContext, 'now'>,
): Promise<CommitResult> {
  const { topic, partition } = position;
  if (effects.anomalies.length === 0 && effects.deadLetters.length === 0 && effects.drift.length === 0 && checkpoints.length === 0) {
    // Most batches move the offset and nothing else: one statement is atomic on its own, without a transaction around it.
    await moveOffset(db, groupId, position, effects.nextOffset);
    return { anomalies: [], deadLetters: [], incidentIds: new Set(), executionIds: [] };
  }
  return db.$transaction(async (tx) => {
    const anomalies =
      effects.anomalies.length === 0
        ? []
        : await tx.anomaly.createManyAndReturn({
            data: effects.anomalies.map((a) => ({ id: newId('Anomaly'), ...a })),
            skipDuplicates: true,
          });
    const deadLetters =
      effects.deadLetters.length === 0
        ? []
        : await tx.deadLetter.createManyAndReturn({
            data: effects.deadLetters.map((d) => ({ id: newId('DeadLetter'), ...d })),
            skipDuplicates: true,
          });
    await moveOffset(tx, groupId, position, effects.nextOffset);
    for (const checkpoint of checkpoints) {
      const state = JSON.stringify(encodeCheckpoint(checkpoint.state.series, checkpoint.sources));
      // Same detector version and offset means the same state (detectors are deterministic): the first write stands.
      await tx.$executeRaw`
        INSERT INTO "DetectorCheckpoint" ("detectorId", "version", "topic", "partition", "nextOffset", "state", "updatedAt")
        VALUES (${checkpoint.detectorId}, ${checkpoint.version}, ${topic}, ${partition}, ${checkpoint.state.nextOffset}, ${state}::jsonb, now())
        ON CONFLICT DO NOTHING`;
      await tx.$executeRaw`
        DELETE FROM "DetectorCheckpoint" WHERE ctid IN (
          SELECT ctid FROM "DetectorCheckpoint"
          WHERE "detectorId" = ${checkpoint.detectorId} AND "version" = ${checkpoint.version}
            AND "topic" = ${topic} AND "partition" = ${partition}
          ORDER BY "nextOffset" DESC OFFSET ${CHECKPOINTS_KEPT})`;
    }
    const now = new Date();
    const grouped = grouping
      ? await groupAnomalies(tx, anomalies, { ...grouping, now })
      : { incidentIds: new Set<string>(), executionIds: [] };
    if (grouping && effects.drift.length > 0) {
      const notices = effects.drift.map((d) => ({ ...d, ...grouping.describeDetector(d.detectorId) }));
      for (const id of await recordDrift(tx, notices, now)) grouped.incidentIds.add(id);
    }
    return { anomalies, deadLetters, ...grouped };
  });
}

/**
 * The partition's next offset, forward only, and only under the epoch this
 * worker restored it at: a replay bumps the epoch, and a batch read before
 * it must not move the offset (ReplayedError).
 */
async function moveOffset(db: Db | Prisma.TransactionClient, groupId: string, position: { topic: string; partition: number; epoch: number }, nextOffset: bigint): Promise<void> {
  const { topic, partition, epoch } = position;
  const moved = await db.$executeRaw`
    INSERT INTO "ConsumerOffset" ("groupId", "topic", "partition", "nextOffset", "epoch", "updatedAt")
    VALUES (${groupId}, ${topic}, ${partition}, ${nextOffset}, ${epoch}, now())
    ON CONFLICT ("groupId", "topic", "partition")
    DO UPDATE SET "nextOffset" = GREATEST("ConsumerOffset"."nextOffset", EXCLUDED."nextOffset"), "updatedAt" = now()
    WHERE "ConsumerOffset"."epoch" = EXCLUDED."epoch"`;
  if (moved !== 1) throw new ReplayedError(topic, partition);
}

/** Anomalies found by time rather than by an event (silence): no offset moves with them; grouped as usual. */
export async function insertAnomalies(
  db: Db,
  anomalies: BatchEffects['anomalies'],
  grouping: Omit<GroupingContext, 'now'>,
): Promise<Omit<CommitResult, 'deadLetters'>> {
  if (anomalies.length === 0) return { anomalies: [], incidentIds: new Set(), executionIds: [] };
  return db.$transaction(async (tx) => {
    const inserted = await tx.anomaly.createManyAndReturn({
      data: anomalies.map((a) => ({ id: newId('Anomaly'), ...a })),
      skipDuplicates: true,
    });
    return { anomalies: inserted, ...(await groupAnomalies(tx, inserted, { ...grouping, now: new Date() })) };
  });
}

export interface RestoredCheckpoint extends DetectorPartitionState {
  sources: Record<string, LastEvent>;
}

export interface RestoredPartition {
  committedOffset: bigint | undefined;
  epoch: number;
  /** Per detector version, the newest checkpoint at or before the committed offset, with the sources it kept. */
  checkpoints: Map<string, RestoredCheckpoint>;
}

/** The position of record and, per detector version, the checkpoint to rebuild its state from. */
export async function loadPartition(db: Db, groupId: string, topic: string, partition: number): Promise<RestoredPartition> {
  const offset = await db.consumerOffset.findUnique({ where: { groupId_topic_partition: { groupId, topic, partition } } });
  const committedOffset = offset?.nextOffset;
  const checkpoints = await db.detectorCheckpoint.findMany({
    where: { topic, partition, nextOffset: { lte: committedOffset ?? 0n } },
    orderBy: { nextOffset: 'desc' },
  });
  const nearest = new Map<string, RestoredCheckpoint>();
  for (const c of checkpoints) {
    const key = `${c.detectorId}@${c.version}`;
    if (!nearest.has(key)) nearest.set(key, { nextOffset: c.nextOffset, ...decodeCheckpoint(c.state) });
  }
  return { committedOffset, epoch: offset?.epoch ?? 0, checkpoints: nearest };
}
