import { workerPorts } from '../../src/app/worker-side.ts';
import type { PubSub } from '../../src/pubsub/pubsub.ts';
import { RedisPubSub } from '../../src/pubsub/redis-pubsub.ts';
import { withWorkerRedis } from '../../src/stream/worker-redis.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { openTestRuntime } from '../support/harness.ts';
import { describePubSub } from './pubsub.ts';

/** The pub/sub ports as production opens them, on the real Redis. */
const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'conformance');

describePubSub('Redis (RedisPubSub, as every process opens it)', async () => new RedisPubSub(TEST_REDIS_URL, log));

// The worker publishes over a Redis connection of its own that drops what Redis does not take (src/stream/worker-redis.ts).
describePubSub("Redis, as the worker's services publish (withWorkerRedis)", async (): Promise<PubSub> => {
  const runtime = await openTestRuntime();
  const worker = await withWorkerRedis(workerPorts(runtime.services), TEST_REDIS_URL, log);
  const { pubsub } = worker.ports;
  return {
    publish: (channel, payload) => pubsub.publish(channel, payload),
    subscribe: (channel, signal) => pubsub.subscribe(channel, signal),
    subscribed: (channel) => pubsub.subscribed!(channel),
    close: async () => {
      await pubsub.close();
      await worker.close();
      await runtime.close();
    },
  };
});
