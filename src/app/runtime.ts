import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { createDb } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { RedisPubSub } from '../pubsub/redis-pubsub.ts';
import { createServices, type Services } from '../services/container.ts';
import { KafkajsTransport } from '../stream/kafkajs-transport.ts';
import { PROJECT_ROOT } from '../core/paths.ts';
import { telemetryFromEnvironment } from '../telemetry/otel.ts';
import { join } from 'node:path';

/** Opens every adapter a Vigil process needs, in order, and closes them in reverse. */
export interface Runtime {
  services: Services;
  close(): Promise<void>;
}

export async function openRuntime(config: Config, log: Logger, options: { migrate?: boolean } = {}): Promise<Runtime> {
  if (options.migrate !== false) {
    const result = await migrate(config.databaseUrl, join(PROJECT_ROOT, 'prisma', 'migrations'));
    if (result.applied.length > 0) log.info({ applied: result.applied }, 'database migrated');
  }
  // Metrics and spans for the whole process (or the telemetry a test started already).
  const telemetry = telemetryFromEnvironment(log);
  const db = createDb(config.databaseUrl);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  redis.on('error', (error: Error) => log.warn({ error: error.message }, 'redis connection error'));
  const kafka = new KafkajsTransport(config.kafkaBrokers, 'vigil', log.child({ component: 'kafka' }));
  const pubsub = new RedisPubSub(config.redisUrl, log.child({ component: 'pubsub' }));
  const services = createServices({ config, db, redis, kafka, pubsub, log });
  return {
    services,
    close: async () => {
      await kafka.close();
      await pubsub.close();
      await redis.quit().catch(() => undefined);
      await db.$disconnect();
      await telemetry.shutdown();
    },
  };
}
