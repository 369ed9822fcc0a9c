import { Redis } from 'ioredis';
import pg from 'pg';

/** Null when PostgreSQL answers at the server of DATABASE_URL, else what is wrong. */
export async function checkPostgres(databaseUrl: string): Promise<string | null> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `${(error as Error).message} (start it, e.g. pg_ctlcluster 15 main start)`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Null when Redis answers PING at REDIS_URL, else what is wrong. */
export async function checkRedis(redisUrl: string): Promise<string | null> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return `${(error as Error).message} (start it, e.g. redis-server --daemonize yes)`;
  } finally {
    redis.disconnect();
  }
}
