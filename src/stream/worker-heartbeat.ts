import type { Redis } from 'ioredis';

/** Workers refresh this key on a timer; its presence is the liveness of the worker fleet (HealthService reads it). */
export const WORKER_HEARTBEAT_PREFIX = 'vigil:worker:heartbeat:';
export const WORKER_HEARTBEAT_TTL_SECONDS = 15;
/** Three beats per TTL: one lost beat does not make a live worker look dead. */
export const WORKER_HEARTBEAT_INTERVAL_MS = (WORKER_HEARTBEAT_TTL_SECONDS * 1000) / 3;

export function beat(redis: Redis, workerId: string): Promise<unknown> {
  return redis.set(`${WORKER_HEARTBEAT_PREFIX}${workerId}`, new Date().toISOString(), 'EX', WORKER_HEARTBEAT_TTL_SECONDS);
}

/** A worker that stops says so at once rather than waiting for its key to expire. */
export function clearBeat(redis: Redis, workerId: string): Promise<unknown> {
  return redis.del(`${WORKER_HEARTBEAT_PREFIX}${workerId}`);
}
