import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { WorkerPorts } from './ports.ts';
import { StreamStats } from './stream-stats.ts';

/** Longest a worker's Redis command may take (a Redis that accepts connections but does not answer). */
export const WORKER_REDIS_TIMEOUT_MS = 500;
/** Longest a starting worker waits for Redis, so that its first heartbeat lands: a Redis that is down does not delay it more. */
const CONNECT_WAIT_MS = 1_000;
const DROPPED_REPORT_MS = 10_000;

/**
 * What the worker writes to Redis (its heartbeat, stream stats, canary
 * arrivals, live pushes of anomalies and incidents) is never what it detects
 * with, and must never hold a batch: the ports it is given run over a
 * connection of its own that refuses commands at once while Redis is away
 * (no offline queue, no retries) and gives up on one after
 * WORKER_REDIS_TIMEOUT_MS. A push that fails is dropped (what it announced
 * is in PostgreSQL); stats wait in memory until Redis is back.
 */
export async function withWorkerRedis(ports: WorkerPorts, redisUrl: string, log: Logger): Promise<{ ports: WorkerPorts; close(): Promise<void> }> {
  const redis = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: WORKER_REDIS_TIMEOUT_MS,
    connectTimeout: 2_000,
  });
  let away = false;
  redis.on('error', (error: Error) => {
    if (away) return;
    away = true;
    log.warn({ err: error }, 'redis unreachable: heartbeat, stream stats and live pushes wait; detection goes on');
  });
  redis.on('ready', () => {
    if (away) log.info('redis reachable again');
    away = false;
  });
  await once(redis, 'ready', { signal: AbortSignal.timeout(CONNECT_WAIT_MS) }).catch(() => undefined);
  const pubsub = new DroppingPubSub(redis, ports.pubsub, log);
  return {
    ports: { ...ports, pubsub, stats: new StreamStats(redis), redis },
    close: async () => {
      pubsub.report();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Publishes over the worker's connection, dropping what Redis does not take; subscribes over the process's shared one. */
class DroppingPubSub implements PubSub {
  private dropped = 0;
  private lastReport = 0;

  constructor(
    private readonly publisher: Redis,
    private readonly shared: PubSub,
    private readonly log: Logger,
  ) {}

  async publish(channel: string, payload: unknown): Promise<void> {
    try {
      await this.publisher.publish(channel, JSON.stringify(payload));
    } catch {
      this.dropped++;
      if (Date.now() - this.lastReport >= DROPPED_REPORT_MS) this.report();
    }
  }

  report(): void {
    if (this.dropped === 0) return;
    this.log.warn({ dropped: this.dropped }, 'live pushes dropped while redis was unreachable (the anomalies are in PostgreSQL)');
    this.dropped = 0;
    this.lastReport = Date.now();
  }

  subscribe<T>(channel: string, signal?: AbortSignal): AsyncIterableIterator<T> {
    return this.shared.subscribe<T>(channel, signal);
  }

  async subscribed(channel: string): Promise<void> {
    await this.shared.subscribed?.(channel);
  }

  /** The shared connection is the process's, closed with its runtime. */
  async close(): Promise<void> {}
}
