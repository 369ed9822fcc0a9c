/**
 * A real `vigil start` process (bin/vigil.mjs, gateway and worker in one)
 * pointed at the suite's own services, and the few GraphQL calls the
 * scenarios make. Its output goes to a log file per start, for evidence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LATENCY_SCHEMA } from '../bench/events.ts';
import { PROJECT_ROOT } from '../src/core/paths.ts';
import { run, waitUntil } from './services/proc.ts';

export const ADMIN_KEY = 'chaos-admin-key-0123456789abcdef';
const UNLIMITED = '1000000000';

export interface VigilSetup {
  /** Scenario id: names the database, the consumer group and the log files. */
  id: string;
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
  port: number;
  logDir: string;
  stateDir: string;
  env?: Record<string, string>;
}

export function vigilEnv(setup: VigilSetup): Record<string, string> {
  return {
    DATABASE_URL: setup.databaseUrl,
    REDIS_URL: setup.redisUrl,
    KAFKA_BROKERS: setup.kafkaBrokers.join(','),
    VIGIL_ADMIN_KEY: ADMIN_KEY,
    VIGIL_AUDIT_KEY: 'chaos-audit-key-0123456789abcdef0123456789',
    VIGIL_STATE_DIR: setup.stateDir,
    PORT: String(setup.port),
    VIGIL_WEBHOOK_ALLOW: '127.0.0.1',
    VIGIL_CONSUMER_GROUP: `chaos-${setup.id}`,
    // The suite's own requests and subscriber share one key and address: lift the edge's rate limits.
    VIGIL_RATE_POINTS_PER_SECOND: UNLIMITED,
    VIGIL_RATE_BURST: UNLIMITED,
    VIGIL_ANON_RATE_POINTS_PER_SECOND: UNLIMITED,
    VIGIL_ANON_RATE_BURST: UNLIMITED,
    VIGIL_AUTH_FAILURES_PER_MINUTE: '1000000',
    LOG_LEVEL: 'info',
    ...setup.env,
  };
}

/** `vigil migrate` against the scenario's database (created if missing). */
export async function migrateDatabase(setup: VigilSetup): Promise<void> {
  await run(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'vigil.mjs'), 'migrate'], {
    env: { ...process.env, ...vigilEnv(setup) },
    cwd: PROJECT_ROOT,
  });
}

/** Every `vigil start` the suite has running, so Ctrl-C can stop them. */
export const liveVigils = new Set<VigilProcess>();

export class VigilProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  readonly startedAt = Date.now();
  readonly logFile: string;
  /** Set when the suite signals it: any other exit is a crash. */
  signalled = false;

  constructor(
    readonly setup: VigilSetup,
    readonly generation: number,
  ) {
    const logFile = path.join(setup.logDir, `${setup.id}.vigil-${String(generation).padStart(2, '0')}.log`);
    this.logFile = logFile;
    const out = openSync(logFile, 'a');
    this.child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'vigil.mjs'), 'start'], {
      env: { ...process.env, ...vigilEnv(setup) },
      cwd: PROJECT_ROOT,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    liveVigils.add(this);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        liveVigils.delete(this);
        resolve(code ?? signal ?? -1);
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 20_000): Promise<number | string> {
    if (!this.running) return this.exited;
    this.signalled = true;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The first line of the process's output that is not a JSON log line (a stack trace), else its last line. */
export function crashLine(vigil: VigilProcess): string {
  const lines = readFileSync(vigil.logFile, 'utf8').split('\n').filter(Boolean);
  return (lines.find((l) => !l.startsWith('{')) ?? lines.at(-1) ?? '(no output)').slice(0, 200);
}

export const baseUrl = (port: number) => `http://127.0.0.1:${port}`;

/** GET /readyz answers 200 (PostgreSQL, Redis and Kafka reachable from Vigil). */
export async function isReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl(port)}/readyz`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

export async function waitReady(vigil: VigilProcess, timeoutMs = 90_000): Promise<void> {
  await waitUntil(
    async () => {
      if (!vigil.running) throw new Error(`vigil exited (${await vigil.exited}) before it was ready; see ${vigil.setup.logDir}`);
      return isReady(vigil.setup.port);
    },
    timeoutMs,
    () => `vigil (${vigil.setup.id}) /readyz never answered 200`,
  ).catch(async (error: Error) => {
    if (!vigil.running) throw new Error(`vigil exited (${await vigil.exited}) before it was ready; see ${vigil.setup.logDir}`);
    throw error;
  });
}

export async function gql<T>(port: number, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${baseUrl(port)}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

export interface RegisteredStream {
  id: string;
  name: string;
  topic: string;
  detectorId: string;
}

/**
 * A latency stream (one series per host) with a THRESHOLD detector, max 1000:
 * every spike (5000 and up) is exactly one anomaly and no normal value is one.
 */
export async function registerStream(port: number, name: string, partitions: number, groupBy: 'DETECTOR' | 'SERIES'): Promise<RegisteredStream> {
  const { registerStream: stream } = await gql<{ registerStream: { id: string; name: string; topic: string } }>(
    port,
    `mutation($input: RegisterStreamInput!) { registerStream(input: $input) { id name topic } }`,
    { input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions } },
  );
  const { registerDetector } = await gql<{ registerDetector: { id: string } }>(
    port,
    `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
    {
      input: {
        streamId: stream.id,
        name: 'ceiling',
        field: 'latency_ms',
        kind: 'THRESHOLD',
        params: { max: 1000 },
        incidentPolicy: { groupBy },
      },
    },
  );
  return { ...stream, detectorId: registerDetector.id };
}
