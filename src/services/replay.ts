import type { Db } from '../store/db.ts';
import { CHANNELS, type PubSub } from '../pubsub/pubsub.ts';
import type { TopicAdmin } from '../stream/transport.ts';
import { afterCommit } from '../store/ambient-transaction.ts';
import { BadUserInputError, NotFoundError } from '../core/errors.ts';

export interface ReplayInput {
  streamId: string;
  fromTimestamp?: Date | null;
  fromOffsets?: unknown;
}

export interface ReplayResult {
  streamId: string;
  fromOffsets: Record<string, string>;
}

/**
 * replayStream: moves the group's position of record back and bumps the
 * partition's epoch, so a batch already in flight cannot move it forward
 * again; workers rebuild detector state from the nearest earlier checkpoint.
 * Results are idempotent: an event already scored by the same detector
 * version makes no second anomaly (a unique constraint).
 */
export class ReplayService {
  constructor(
    private readonly db: Db,
    private readonly topics: TopicAdmin,
    private readonly pubsub: PubSub,
    private readonly groupId: string,
  ) {}

  async replay(input: ReplayInput): Promise<ReplayResult> {
    const stream = await this.db.stream.findUnique({ where: { id: input.streamId } });
    if (!stream) throw new NotFoundError('stream', input.streamId, 'input.streamId');
    const hasTime = input.fromTimestamp != null;
    const hasOffsets = input.fromOffsets != null;
    if (hasTime === hasOffsets) {
      throw new BadUserInputError('input.fromTimestamp', 'give exactly one of fromTimestamp and fromOffsets');
    }
    const targets = hasTime
      ? await this.topics.offsetsForTime(stream.topic, input.fromTimestamp!)
      : parseOffsets(input.fromOffsets, stream.partitions);

    await this.db.$transaction(async (tx) => {
      for (const [partition, offset] of targets) {
        await tx.$executeRaw`
          INSERT INTO "ConsumerOffset" ("groupId", "topic", "partition", "nextOffset", "epoch", "updatedAt")
          VALUES (${this.groupId}, ${stream.topic}, ${partition}, ${offset}, 1, now())
          ON CONFLICT ("groupId", "topic", "partition")
          DO UPDATE SET "nextOffset" = EXCLUDED."nextOffset", "epoch" = "ConsumerOffset"."epoch" + 1, "updatedAt" = now()`;
      }
    });
    // After commit: a worker acting on the message re-reads these offsets, so they must be visible by then.
    await afterCommit(() => this.pubsub.publish(CHANNELS.control, { type: 'replay', topic: stream.topic }));
    return {
      streamId: stream.id,
      fromOffsets: Object.fromEntries([...targets].map(([partition, offset]) => [String(partition), offset.toString()])),
    };
  }
}

function parseOffsets(value: unknown, partitions: number): Map<number, bigint> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) {
    throw new BadUserInputError('input.fromOffsets', 'must be an object of partition -> offset, e.g. {"0": "1200"}');
  }
  const targets = new Map<number, bigint>();
  for (const [key, offset] of Object.entries(value as Record<string, unknown>)) {
    const partition = Number(key);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new BadUserInputError(`input.fromOffsets.${key}`, `is not a partition of this stream (0 to ${partitions - 1})`);
    }
    if (!(typeof offset === 'string' || typeof offset === 'number') || !/^\d+$/.test(String(offset))) {
      throw new BadUserInputError(`input.fromOffsets.${key}`, 'must be a non-negative decimal offset, e.g. "1200"');
    }
    targets.set(partition, BigInt(offset));
  }
  return targets;
}
