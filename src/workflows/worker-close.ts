import type { Worker } from 'bullmq';
import type { Logger } from 'pino';

/** States in which disconnecting an ioredis client ends it at once (or it has ended). */
const SETTLED = ['ready', 'end', 'wait'];

/**
 * Closes a BullMQ worker. BullMQ's close waits for its blocking connection
 * to end, and an ioredis client between two reconnects never ends:
 * disconnecting it drops its retry timer without an 'end' (the case BullMQ
 * works around elsewhere, its issue #4585). Just after a Redis outage that
 * held a shutdown for ever, so the connection gets up to `waitMs` to be back
 * first. Redis still away then: the close goes on in the background, and
 * its jobs, which could not be recorded anyway, are taken over elsewhere
 * once their locks lapse.
 */
export async function closeWorker(worker: Worker, log: Logger, waitMs = 10_000): Promise<void> {
  const blocking = await worker.getBackend().blockingClient;
  if (blocking && !SETTLED.includes(blocking.status)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        blocking.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      blocking.once('ready', done);
    });
    if (!SETTLED.includes(blocking.status)) {
      log.warn({ status: blocking.status }, `the runbook worker's Redis connection was not back within ${waitMs} ms: not waiting for it to close`);
      void worker.close().catch(() => undefined);
      return;
    }
  }
  await worker.close();
}
