import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GraphQLClient } from 'graphql-request';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { LATENCY_SCHEMA } from '../../bench/events.ts';
import { TEST_ADMIN_KEY, uniqueName } from '../support/env.ts';
import { freePort, spawnVigil, waitFor, type VigilProcess } from '../support/processes.ts';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium';
export const VIEWPORT = { width: 1366, height: 768 };
const SCREENSHOTS = join(PROJECT_ROOT, 'docs', 'screenshots');

/** Builds console/dist from console/src (under a second), so the tests drive the code as it is now, not the last `npm ci`'s. */
export function buildConsole(): void {
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-console.mjs')], { stdio: 'pipe' });
}

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Writes docs/screenshots/<name>.png at 1366x768, the pictures docs/console.md and the README show. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

export async function signIn(page: Page, base: string, secret: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('API key').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor();
}

/** A real `vigil start` (gateway, worker and runbooks in one process) on a free port, limited to this file's streams. */
export interface Vigil {
  process: VigilProcess;
  base: string;
  port: number;
  admin: GraphQLClient;
  client(secret: string): GraphQLClient;
  stop(): Promise<void>;
}

export async function startVigil(prefix: string, port?: number): Promise<Vigil> {
  const chosen = port ?? (await freePort());
  const child = spawnVigil(['start'], {
    PORT: String(chosen),
    VIGIL_CONSUMER_GROUP: `${prefix}-group`,
    VIGIL_WORKER_STREAMS: `${prefix}-*`,
    VIGIL_QUEUE_PREFIX: `${prefix}-q`,
    LOG_LEVEL: 'warn',
  });
  const base = `http://127.0.0.1:${chosen}`;
  await waitFor(
    async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200,
    90_000,
    () => `vigil start never became ready:\n${child.output().slice(-3000)}`,
    100,
  );
  const client = (secret: string) => new GraphQLClient(`${base}/graphql`, { headers: { authorization: `Bearer ${secret}` } });
  return {
    process: child,
    base,
    port: chosen,
    admin: client(TEST_ADMIN_KEY),
    client,
    stop: async () => {
      child.kill('SIGTERM');
      await child.exited;
    },
  };
}

/**
 * A second gateway (`vigil gateway`) over the same database and Redis whose
 * Kafka broker is a port nothing listens on: it serves queries, and /readyz
 * says Kafka is down, as it would during a broker outage.
 */
export async function startGatewayWithoutKafka(prefix: string): Promise<Vigil> {
  const port = await freePort();
  const child = spawnVigil(['gateway'], {
    PORT: String(port),
    KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
    VIGIL_CONSUMER_GROUP: `${prefix}-group`,
    VIGIL_QUEUE_PREFIX: `${prefix}-q`,
    LOG_LEVEL: 'error',
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200,
    60_000,
    () => `vigil gateway never answered /healthz:\n${child.output().slice(-3000)}`,
    100,
  );
  const client = (secret: string) => new GraphQLClient(`${base}/graphql`, { headers: { authorization: `Bearer ${secret}` } });
  return {
    process: child,
    base,
    port,
    admin: client(TEST_ADMIN_KEY),
    client,
    stop: async () => {
      child.kill('SIGTERM');
      await child.exited;
    },
  };
}

export async function createKey(vigil: Vigil, role: 'VIEWER' | 'OPERATOR' | 'ADMIN'): Promise<{ id: string; name: string; secret: string }> {
  const name = uniqueName(role.toLowerCase());
  const { createApiKey } = await vigil.admin.request<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
    `mutation($name: String!, $role: Role!) { createApiKey(name: $name, role: $role) { secret apiKey { id } } }`,
    { name, role },
  );
  return { id: createApiKey.apiKey.id, name, secret: createApiKey.secret };
}

/**
 * A latency stream with a THRESHOLD detector (latency_ms over 500 is an
 * anomaly) and a runbook that needs approval, only ever run by hand (it
 * triggers at CRITICAL, the detector raises WARNING).
 */
export async function registerFixtures(vigil: Vigil, prefix: string): Promise<{ streamId: string; streamName: string; runbookId: string }> {
  const streamName = `${prefix}-lat`;
  const { registerStream } = await vigil.admin.request<{ registerStream: { id: string } }>(
    `mutation($input: RegisterStreamInput!) { registerStream(input: $input) { id } }`,
    { input: { name: streamName, topic: streamName, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms', 'errors'], partitions: 1 } },
  );
  await vigil.admin.request(`mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`, {
    input: { streamId: registerStream.id, name: `${prefix}-slow`, field: 'latency_ms', kind: 'THRESHOLD', params: { max: 500 }, severity: 'WARNING' },
  });
  const { registerRunbook } = await vigil.admin.request<{ registerRunbook: { id: string } }>(
    `mutation($input: RegisterRunbookInput!) { registerRunbook(input: $input) { id } }`,
    {
      input: {
        name: `${prefix}-notify`,
        trigger: { streamId: registerStream.id, minSeverity: 'CRITICAL' },
        steps: [{ action: 'NOTIFY', params: { message: 'latency is being looked at' } }],
        requiresApproval: true,
      },
    },
  );
  return { streamId: registerStream.id, streamName, runbookId: registerRunbook.id };
}

/** Publishes latency events through the API (the gateway produces them to Kafka). */
export async function publish(vigil: Vigil, streamId: string, events: { host: string; latency_ms: number }[]): Promise<void> {
  const at = new Date().toISOString();
  const { publishEvents } = await vigil.admin.request<{ publishEvents: { accepted: number; rejected: { reason: string }[] } }>(
    `mutation($streamId: ID!, $events: [JSON!]!) { publishEvents(streamId: $streamId, events: $events) { accepted rejected { reason } } }`,
    { streamId, events: events.map((e) => ({ ...e, errors: 0, at })) },
  );
  if (publishEvents.rejected.length) throw new Error(`events refused: ${JSON.stringify(publishEvents.rejected)}`);
}
