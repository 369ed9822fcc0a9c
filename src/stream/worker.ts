import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { WORKER_HEARTBEAT_PREFIX, WORKER_HEARTBEAT_TTL_SECONDS } from '../resolvers/health.ts';
import type { Services } from '../resolvers/services.ts';

export interface Worker {
  id: string;
  stop(): Promise<void>;
}

/**
 * The worker process. So far it announces itself (the health query counts
 * live workers); stream consumption, detection and incident grouping are the
 * stream-worker and incident milestones.
 */
export async function startWorker(services: Services, log: Logger): Promise<Worker> {
  const { redis } = services.ports;
  const id = `${hostname()}:${process.pid}`;
  const key = `${WORKER_HEARTBEAT_PREFIX}${id}`;
  const beat = () =>
    redis.set(key, new Date().toISOString(), 'EX', WORKER_HEARTBEAT_TTL_SECONDS).catch((error: Error) => {
      log.warn({ error: error.message }, 'worker heartbeat failed');
    });
  await beat();
  const timer = setInterval(beat, (WORKER_HEARTBEAT_TTL_SECONDS * 1000) / 3);
  log.info({ worker: id }, 'worker started');
  return {
    id,
    stop: async () => {
      clearInterval(timer);
      await redis.del(key).catch(() => undefined);
      log.info({ worker: id }, 'worker stopped');
    },
  };
}
