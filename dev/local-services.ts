/**
 * Probes of PostgreSQL and Redis for `vigil services`: whether they answer at
 * the configured address, and which version does.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

export type Probe = { ok: true; version: string } | { ok: false; problem: string; refused: boolean };

/** host:port of a URL, with the scheme's default port. */
export function addressOf(url: string, defaultPort: number): { host: string; port: number; address: string } {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = parsed.port ? Number(parsed.port) : defaultPort;
  return { host, port, address: `${host}:${port}` };
}

/** Whether a host is this machine, where `vigil services` may install and start things. */
export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host.startsWith('127.');
}

function refusedOrDown(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || /ECONNREFUSED|connect ETIMEDOUT|Connection is closed/.test(String((error as Error).message));
}

/** The server of DATABASE_URL (its `postgres` database), asked for its version. */
export async function probePostgres(databaseUrl: string): Promise<Probe> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return { ok: true, version: rows[0]!.server_version.split(' ')[0]! };
  } catch (error) {
    return { ok: false, problem: postgresProblem(error as Error), refused: refusedOrDown(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh Debian cluster asks TCP clients for a password the default DATABASE_URL does not carry: say what to do. */
function postgresProblem(error: Error): string {
  if (/password|SASL|SCRAM/i.test(error.message)) {
    return `${error.message}: the server wants a password. Either put it in DATABASE_URL ` +
      `(postgresql://postgres:PASSWORD@127.0.0.1:5432/vigil after \`sudo -u postgres psql -c "ALTER USER postgres PASSWORD 'PASSWORD'"\`), ` +
      'or, on a development machine, allow local connections in pg_hba.conf (`host all all 127.0.0.1/32 trust`) and reload (docs/setup.md)';
  }
  return error.message;
}

/** Redis at REDIS_URL, asked for its version (INFO server). */
export async function probeRedis(redisUrl: string): Promise<Probe> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.info('server');
    return { ok: true, version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
  } catch (error) {
    return { ok: false, problem: (error as Error).message, refused: refusedOrDown(error) };
  } finally {
    redis.disconnect();
  }
}

/** Null when PostgreSQL answers at the server of DATABASE_URL, else what is wrong. */
export async function checkPostgres(databaseUrl: string): Promise<string | null> {
  const probe = await probePostgres(databaseUrl);
  return probe.ok ? null : probe.problem;
}

/** Null when Redis answers PING at REDIS_URL, else what is wrong. */
export async function checkRedis(redisUrl: string): Promise<string | null> {
  const probe = await probeRedis(redisUrl);
  return probe.ok ? null : probe.problem;
}
