import { GraphQLClient } from 'graphql-request';
import { loadConfig, type Config } from '../../src/core/config.ts';
import { startWorkflows, type Workflows } from '../../src/workflows/index.ts';
import { startGateway, type Gateway } from '../../src/gateway/server.ts';
import type { Role } from '../../src/generated/prisma/enums.ts';
import { openRuntime, type Runtime } from '../../src/app/runtime.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { workerPorts } from '../../src/app/worker-side.ts';
import { startWorker, type Worker, type WorkerOptions } from '../../src/stream/worker-startup.ts';
import { LATENCY_SCHEMA } from '../../bench/events.ts';
import { TEST_ADMIN_KEY, TEST_DATABASE_URL, TEST_KAFKA_BROKERS, TEST_REDIS_URL, TEST_WEBHOOK_ALLOW, uniqueName } from './env.ts';

/**
 * A real gateway on a random port over the real PostgreSQL, Redis and Kafka,
 * with clients for each role. Tests talk to it over HTTP and WebSocket as any
 * client would.
 */
export interface Harness {
  runtime: Runtime;
  gateway: Gateway;
  url: string;
  wsUrl: string;
  /** Secrets by role; ADMIN is the configured admin key. */
  secrets: Record<Role, string>;
  client(secret?: string): GraphQLClient;
  admin: GraphQLClient;
  createKey(role: Role, name?: string): Promise<{ id: string; secret: string }>;
  close(): Promise<void>;
}

/**
 * Test files share the admin key and the address 127.0.0.1 and run side by side, so the harness
 * lifts the rate limits unless a test sets its own (`env`); test/security/ tests them.
 */
const UNLIMITED = '1000000000';
const TEST_EDGE_ENV = {
  VIGIL_RATE_POINTS_PER_SECOND: UNLIMITED,
  VIGIL_RATE_BURST: UNLIMITED,
  VIGIL_ANON_RATE_POINTS_PER_SECOND: UNLIMITED,
  VIGIL_ANON_RATE_BURST: UNLIMITED,
  VIGIL_AUTH_FAILURES_PER_MINUTE: '1000000',
};

export interface HarnessOptions {
  consumerGroup?: string;
  /** Environment variables over the test defaults (see testConfig). */
  env?: Record<string, string>;
}

/** A process's configuration over the test services, with the rate limits lifted unless `env` sets them. */
export function testConfig(options: HarnessOptions = {}): Config {
  return loadConfig({
    ...TEST_EDGE_ENV,
    ...(options.consumerGroup ? { VIGIL_CONSUMER_GROUP: options.consumerGroup } : {}),
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
    VIGIL_ADMIN_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    PORT: '0',
    VIGIL_WEBHOOK_ALLOW: TEST_WEBHOOK_ALLOW,
    ...options.env,
  });
}

/** The adapters and services of a Vigil process over the test services (the database is migrated by global setup). */
export async function openTestRuntime(options: HarnessOptions = {}): Promise<Runtime> {
  const config = testConfig(options);
  return openRuntime(config, createLogger(config.logLevel, 'vigil-test'), { migrate: false });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const runtime = await openTestRuntime(options);
  const log = runtime.services.ports.log;
  const gateway = await startGateway(runtime.services, log, 0);
  const url = `http://127.0.0.1:${gateway.port}/graphql`;
  const client = (secret?: string) =>
    new GraphQLClient(url, { headers: secret ? { authorization: `Bearer ${secret}` } : {} });
  const createKey = async (role: Role, name = uniqueName(role.toLowerCase())) => {
    const { apiKey, secret } = await runtime.services.apiKeys.create(name, role);
    return { id: apiKey.id, secret };
  };
  const [viewer, operator] = await Promise.all([createKey('VIEWER'), createKey('OPERATOR')]);
  return {
    runtime,
    gateway,
    url,
    wsUrl: `ws://127.0.0.1:${gateway.port}/graphql`,
    secrets: { VIEWER: viewer.secret, OPERATOR: operator.secret, ADMIN: TEST_ADMIN_KEY },
    client,
    admin: client(TEST_ADMIN_KEY),
    createKey,
    close: async () => {
      await gateway.close();
      await runtime.close();
    },
  };
}

/** The GraphQL errors of a failed graphql-request call (its ClientError), or the thrown value. */
export async function graphqlErrors(call: Promise<unknown>): Promise<{ message: string; extensions: Record<string, unknown> }[]> {
  try {
    await call;
  } catch (error) {
    const errors = (error as { response?: { errors?: { message: string; extensions: Record<string, unknown> }[] } }).response?.errors;
    if (errors) return errors;
    throw error;
  }
  throw new Error('expected the call to fail with GraphQL errors, but it succeeded');
}

/** A stream schema most tests can use (the pipeline bench's too): latency per host with an event time. */
export { LATENCY_SCHEMA };

export const REGISTER_STREAM = /* GraphQL */ `
  mutation Register($input: RegisterStreamInput!) {
    registerStream(input: $input) { id name topic schemaVersion partitions status keyField timestampField valueFields schema }
  }
`;

export async function registerLatencyStream(h: Harness, partitions = 1): Promise<{ id: string; name: string; topic: string }> {
  const name = uniqueName('lat');
  const result = await h.admin.request<{ registerStream: { id: string; name: string; topic: string } }>(REGISTER_STREAM, {
    input: {
      name,
      topic: name,
      schema: LATENCY_SCHEMA,
      keyField: 'host',
      timestampField: 'at',
      valueFields: ['latency_ms', 'errors'],
      partitions,
    },
  });
  return result.registerStream;
}

/** A test's worker; `workflows` when it runs the runbook side too (its relay's readiness: `relayed()`). */
export interface TestWorker extends Worker {
  workflows?: Workflows;
}

/** A stream worker in this process over the harness's services, limited to some streams and a group of its own. */
export async function startTestWorker(
  h: Harness,
  options: {
    streams: string[];
    group: string;
    maxEventBytes?: number;
    /**
     * Also run the runbook side (outbox relay, step runner, incident sweep) in this process.
     * Canaries are off (canaryMs 0) unless asked for: they add offsets that tests counting events would see.
     */
    workflows?: Partial<
      Pick<Config, 'stepBackoffMs' | 'incidentSweepMs' | 'slaEvaluationMs' | 'scaleHookUrl' | 'queuePrefix' | 'canaryMs' | 'reconcileMs' | 'scheduleCheckMs'>
    >;
    /** VIGIL_MAX_KEY_LENGTH and VIGIL_MAX_SERIES_PER_DETECTOR for this worker only. */
    bounds?: Partial<Pick<Config, 'maxKeyLength' | 'maxSeriesPerDetector'>>;
  } & Partial<WorkerOptions>,
): Promise<TestWorker> {
  const { streams, group, maxEventBytes, workflows: workflowConfig, bounds, ...workerOptions } = options;
  const base = h.runtime.services.ports.config;
  const config: Config = {
    ...base,
    // Each test worker runs its own streams' runbooks on a queue of its own: test files run side by side.
    queuePrefix: `${base.queuePrefix}-${group}`,
    canaryMs: 0,
    ...workflowConfig,
    workerStreams: streams,
    consumerGroup: group,
    maxEventBytes: maxEventBytes ?? base.maxEventBytes,
    ...bounds,
  };
  const log = h.runtime.services.ports.log.child({ component: 'test-worker' });
  const workflows = workflowConfig ? await startWorkflows(h.runtime.services, config, log) : undefined;
  const worker = await startWorker(workerPorts(h.runtime.services), config, log, {
    catalogRefreshMs: 500,
    ...(workflows ? { onExecutionsPlanned: () => workflows.relayNow() } : {}),
    ...workerOptions,
  });
  return {
    ...worker,
    workflows,
    stop: async () => {
      await worker.stop();
      await workflows?.stop();
    },
  };
}
