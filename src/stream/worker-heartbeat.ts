import type { Redis } from 'ioredis';
import type { TopicPartition } from './transport.ts';

/** Workers refresh this key on a timer; its presence is the liveness of the worker fleet (HealthService reads it). */
export const WORKER_HEARTBEAT_PREFIX = 'vigil:worker:heartbeat:';
export const WORKER_HEARTBEAT_TTL_SECONDS = 15;
/** Three beats per TTL: one lost beat does not make a live worker look dead. */
export const WORKER_HEARTBEAT_INTERVAL_MS = (WORKER_HEARTBEAT_TTL_SECONDS * 1000) / 3;

/** What a worker process says of itself with each beat: stream health lists the processes that hold a stream's partitions. */
export interface WorkerBeat {
  /** host:pid, the worker's id in logs. */
  id: string;
  host: string;
  pid: number;
  /** Its Vigil consumer group (VIGIL_CONSUMER_GROUP): workers of another deployment on the same Redis are not this one's. */
  group: string;
  /** The partitions it holds now, by topic. */
  partitions: Record<string, number[]>;
  /** When it beat, epoch ms. */
  at: number;
}

export function beat(redis: Redis, me: Omit<WorkerBeat, 'partitions' | 'at'>, assigned: readonly TopicPartition[]): Promise<unknown> {
  const partitions: Record<string, number[]> = {};
  for (const { topic, partition } of assigned) (partitions[topic] ??= []).push(partition);
  for (const list of Object.values(partitions)) list.sort((a, b) => a - b);
  const payload: WorkerBeat = { ...me, partitions, at: Date.now() };
  return redis.set(`${WORKER_HEARTBEAT_PREFIX}${me.id}`, JSON.stringify(payload), 'EX', WORKER_HEARTBEAT_TTL_SECONDS);
}

/** A worker that stops says so at once rather than waiting for its key to expire. */
export function clearBeat(redis: Redis, workerId: string): Promise<unknown> {
  return redis.del(`${WORKER_HEARTBEAT_PREFIX}${workerId}`);
}

/** The beat a key holds, or null for anything else (a worker of an older version wrote a bare timestamp). */
export function parseBeat(stored: string | null): WorkerBeat | null {
  if (stored === null || !stored.startsWith('{')) return null;
  try {
    const beat = JSON.parse(stored) as WorkerBeat;
    return typeof beat.id === 'string' && typeof beat.group === 'string' && typeof beat.partitions === 'object' && beat.partitions !== null ? beat : null;
  } catch {
    return null;
  }
}

/**
 * Every worker's beat on this Redis (SCAN, not KEYS: a big keyspace must not block Redis for the
 * health page), and how many live keys hold something else (a worker of an older version).
 */
export async function readBeats(redis: Pick<Redis, 'scanStream' | 'mget'>): Promise<{ beats: WorkerBeat[]; others: number }> {
  const keys: string[] = [];
  for await (const found of redis.scanStream({ match: `${WORKER_HEARTBEAT_PREFIX}*`, count: 500 })) keys.push(...(found as string[]));
  if (keys.length === 0) return { beats: [], others: 0 };
  const beats: WorkerBeat[] = [];
  let others = 0;
  for (const stored of await redis.mget(...keys)) {
    const beat = parseBeat(stored);
    if (beat) beats.push(beat);
    else if (stored !== null) others++; // null: it expired between the scan and the read
  }
  return { beats, others };
}
