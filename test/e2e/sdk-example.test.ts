import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { GraphQLClient } from 'graphql-request';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS, TEST_REDIS_URL, uniqueName } from '../support/env.ts';

/**
 * The SDK example against the real service: `vigil start` (gateway and worker)
 * as a child process, the example as another, talking HTTP as any user would.
 *
 * The service gets a database of its own on the test PostgreSQL server (it
 * creates and migrates it at start; it is dropped afterwards): its worker
 * consumes every stream in its database, and on the shared test database that
 * would mean processing other test files' streams while they run, and failing
 * to start over whatever rows they left behind.
 */

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const ADMIN_SECRET = `e2e-admin-${randomBytes(12).toString('hex')}`;

function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
const E2E_DATABASE = `${new URL(TEST_DATABASE_URL).pathname.slice(1)}_e2e_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const E2E_DATABASE_URL = databaseUrl(E2E_DATABASE);

async function dropE2eDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${E2E_DATABASE}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

interface Service {
  child: ChildProcess;
  url: string;
  /** Everything the service wrote so far, for failure messages. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let service: Service;
let startupMs = 0;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startService(): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/vigil.mjs', 'start'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: E2E_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      VIGIL_ADMIN_KEY: ADMIN_SECRET,
      // Its own consumer group, so it never joins (and rebalances) a developer's running service.
      VIGIL_CONSUMER_GROUP: uniqueName('vigil-e2e'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const output = () => `--- stderr ---\n${stderr.slice(-8000)}\n--- stdout ---\n${stdout.slice(-4000)}`;
  const base = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (exit = e));
  while (Date.now() < deadline) {
    if (exit) throw new Error(`vigil start exited (code ${exit.code}, signal ${exit.signal}) before /readyz answered 200\n${output()}`);
    try {
      const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return { child, url: `${base}/graphql`, output, exited };
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`vigil start: GET /readyz did not answer 200 within ${READY_TIMEOUT_MS / 1000} s (last: ${last})\n${output()}`);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the example as its own process, the way its doc comment says to. */
function runExample(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    delete childEnv.VIGIL_URL;
    delete childEnv.VIGIL_API_KEY;
    Object.assign(childEnv, env);
    execFile(
      process.execPath,
      ['--import', 'tsx', 'examples/register-pipeline.ts', ...args],
      { cwd: PROJECT_ROOT, env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const STREAM_WITH_PIPELINE = /* GraphQL */ `
  query StreamWithPipeline($name: String!) {
    stream(name: $name) { id name topic schemaVersion keyField timestampField valueFields detectors { id name kind field } }
    runbooks { id name steps { action } trigger { detector { id } stream { id } } }
  }
`;

interface StreamWithPipeline {
  stream: {
    id: string;
    name: string;
    topic: string;
    schemaVersion: number;
    keyField: string | null;
    timestampField: string | null;
    valueFields: string[];
    detectors: { id: string; name: string; kind: string; field: string }[];
  } | null;
  runbooks: { id: string; name: string; steps: { action: string }[]; trigger: { detector: { id: string } | null; stream: { id: string } | null } }[];
}

beforeAll(async () => {
  const started = Date.now();
  service = await startService();
  startupMs = Date.now() - started;
  console.log(`[e2e] vigil start ready in ${startupMs} ms at ${service.url}`);
});

afterAll(async () => {
  // Normally the last test has stopped the service; this only cleans up after a failure.
  if (service && service.child.exitCode === null && service.child.signalCode === null) {
    service.child.kill('SIGTERM');
    const stopped = await Promise.race([service.exited, new Promise((resolve) => setTimeout(() => resolve(undefined), STOP_TIMEOUT_MS))]);
    if (!stopped) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
  }
  await dropE2eDatabase();
});

describe('examples/register-pipeline.ts against the started service', () => {
  it('registers a stream, a ZSCORE detector and a runbook, printing their ids as JSON lines', async () => {
    const name = uniqueName('sdk-e2e');
    const started = Date.now();
    const run = await runExample([name], { VIGIL_URL: service.url, VIGIL_API_KEY: ADMIN_SECRET });
    console.log(`[e2e] example ran in ${Date.now() - started} ms`);
    expect(run.code, `example failed:\n${run.stderr}\n${run.stdout}\n${service.output()}`).toBe(0);

    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => l.created)).toEqual(['stream', 'detector', 'runbook']);
    const [stream, detector, runbook] = lines as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    expect(stream).toMatchObject({ name, topic: name, schemaVersion: 1 });
    expect(detector).toMatchObject({ kind: 'ZSCORE', field: 'latency_ms', version: 1, streamId: stream.id });
    expect(runbook).toMatchObject({ steps: ['NOTIFY', 'WEBHOOK'], detectorId: detector.id });

    // What it printed exists, seen through the API by an independent client.
    const admin = new GraphQLClient(service.url, { headers: { authorization: `Bearer ${ADMIN_SECRET}` } });
    const found = await admin.request<StreamWithPipeline>(STREAM_WITH_PIPELINE, { name });
    expect(found.stream).toMatchObject({
      id: stream.id,
      name,
      topic: name,
      keyField: 'host',
      timestampField: 'at',
      valueFields: ['latency_ms'],
    });
    expect(found.stream!.detectors).toEqual([{ id: detector.id, name: detector.name, kind: 'ZSCORE', field: 'latency_ms' }]);
    const registered = found.runbooks.find((r) => r.id === runbook.id);
    expect(registered).toMatchObject({
      name: runbook.name,
      steps: [{ action: 'NOTIFY' }, { action: 'WEBHOOK' }],
      trigger: { detector: { id: detector.id } },
    });
  });

  it('exits non-zero printing UNAUTHENTICATED when the API key is wrong, and registers nothing', async () => {
    const name = uniqueName('sdk-e2e-denied');
    const run = await runExample([name], { VIGIL_URL: service.url, VIGIL_API_KEY: 'not-a-valid-key-0123456789' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('UNAUTHENTICATED');
    expect(run.stdout).toBe('');
    const admin = new GraphQLClient(service.url, { headers: { authorization: `Bearer ${ADMIN_SECRET}` } });
    expect((await admin.request<StreamWithPipeline>(STREAM_WITH_PIPELINE, { name })).stream).toBeNull();
  });

  it('exits non-zero with a clear message when VIGIL_API_KEY is missing', async () => {
    const run = await runExample([uniqueName('sdk-e2e-nokey')], { VIGIL_URL: service.url });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('VIGIL_API_KEY is not set');
    expect(run.stdout).toBe('');
  });

  it('stops gracefully on SIGTERM: exit code 0 within 15 s', async () => {
    const started = Date.now();
    service.child.kill('SIGTERM');
    const result = await Promise.race([
      service.exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS)),
    ]);
    console.log(`[e2e] vigil start stopped in ${Date.now() - started} ms`);
    expect(result, `vigil start did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM\n${service.output()}`).not.toBe('timeout');
    expect(result, `vigil start did not exit cleanly\n${service.output()}`).toEqual({ code: 0, signal: null });
  });
});
