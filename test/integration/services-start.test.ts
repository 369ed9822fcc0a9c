import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresCluster } from '../../chaos/services/postgres.ts';
import { isAlive, signal, waitForExit } from '../../chaos/services/proc.ts';
import { startRedis, type RedisServer } from '../../chaos/services/redis.ts';
import { probePostgres, probeRedis } from '../../dev/local-services.ts';
import { ensureServices, type ServicesOptions } from '../../dev/services.ts';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/env.ts';
import { freePort } from '../support/processes.ts';

/**
 * `vigil services` starts a PostgreSQL and a Redis that are installed but
 * stopped. Proven on a second cluster and a second Redis of this test's own
 * (the fault suite's launchers, chaos/services/), on other ports, stopped
 * before the call: the shared services of the test run are never stopped.
 */
let root: string;
let cluster: PostgresCluster | undefined;
let redis: RedisServer | undefined;
let redisPort: number;
const redisDir = () => path.join(root, 'redis-started');
const log = (line: string) => console.log(`[services-start] ${line}`);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'vigil-services-'));
  cluster = await startPostgres(root, await freePort(), log);
  await cluster.stop();
  redisPort = await freePort();
  redis = await startRedis(root, redisPort, log);
  await redis.stop();
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  await redis?.stop();
  // The daemon `vigil services` started: by the pid file it wrote, only if that process is still a redis-server.
  const pid = Number(readFileSync(path.join(redisDir(), 'redis.pid'), 'utf8').trim() || 0);
  if (pid > 0 && isAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')) {
    signal(pid, 'SIGTERM');
    await waitForExit(pid, 10_000);
  }
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('vigil services: start when stopped', () => {
  const options = (): ServicesOptions => ({
    databaseUrl: cluster!.url('postgres'),
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    kafkaBrokers: [],
    only: ['postgresql', 'redis'],
    projectRoot: PROJECT_ROOT,
    stateDir: root,
    postgresDataDir: cluster!.dataDir,
    redisDir: redisDir(),
    install: false,
    log,
  });

  it('both are down at first, then started and answering, each reported with version and address', async () => {
    expect(await probePostgres(cluster!.url('postgres'))).toMatchObject({ ok: false, refused: true });
    expect(await probeRedis(`redis://127.0.0.1:${redisPort}`)).toMatchObject({ ok: false, refused: true });

    const report = await ensureServices(options());

    expect(report.ok).toBe(true);
    expect(report.components).toEqual([
      { name: 'postgresql', version: expect.stringMatching(/^\d+\.\d+/), address: `127.0.0.1:${cluster!.port}`, state: 'started' },
      { name: 'redis', version: expect.stringMatching(/^\d+\.\d+\.\d+/), address: `127.0.0.1:${redisPort}`, state: 'started' },
    ]);
    expect(await probePostgres(cluster!.url('postgres'))).toMatchObject({ ok: true });
    expect(await probeRedis(`redis://127.0.0.1:${redisPort}`)).toMatchObject({ ok: true });
  }, 120_000);

  it('run again: both answering, nothing started twice', async () => {
    const report = await ensureServices(options());
    expect(report.components.map((c) => [c.name, c.state])).toEqual([
      ['postgresql', 'answering'],
      ['redis', 'answering'],
    ]);
  }, 60_000);

  it('the shared services were never touched', async () => {
    expect(await probePostgres(TEST_DATABASE_URL)).toMatchObject({ ok: true });
    expect(await probeRedis(TEST_REDIS_URL)).toMatchObject({ ok: true });
  });
});
