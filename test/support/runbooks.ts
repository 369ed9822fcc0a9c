import { createHmac, timingSafeEqual } from 'node:crypto';
import { uniqueName } from './env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, type Harness } from './harness.ts';
import { waitFor } from './processes.ts';

/**
 * What the runbook tests share: a stream whose THRESHOLD detector (max 1000)
 * makes every value above 1000 an anomaly from the first event, events at
 * chosen event times, runbooks, and views of executions and incidents read
 * through the GraphQL API.
 */

export interface TestStream {
  id: string;
  name: string;
  topic: string;
  detectorId: string;
}

export async function streamWithThreshold(
  h: Harness,
  namePrefix: string,
  detector: { severity?: string; incidentPolicy?: Record<string, unknown> } = {},
): Promise<TestStream> {
  const name = `${namePrefix}-${uniqueName('s')}`;
  const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; name: string; topic: string } }>(REGISTER_STREAM, {
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 1 },
  });
  const { registerDetector } = await h.admin.request<{ registerDetector: { id: string } }>(
    `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
    { input: { streamId: stream.id, name: 'ceiling', field: 'latency_ms', kind: 'THRESHOLD', params: { max: 1000 }, ...detector } },
  );
  return { ...stream, detectorId: registerDetector.id };
}

export const EVENT_BASE = Date.parse('2026-11-30T08:00:00Z');

/** Events of host web-1 at `at` seconds after EVENT_BASE (event time); a value above 1000 is an anomaly. */
export async function sendEvents(h: Harness, topic: string, points: { at: number; value: number }[]): Promise<void> {
  await h.runtime.services.ports.kafka.produce(
    topic,
    points.map((p) => ({
      key: 'web-1',
      value: JSON.stringify({ host: 'web-1', latency_ms: p.value, at: new Date(EVENT_BASE + p.at * 1000).toISOString() }),
    })),
  );
}

export interface RunbookInput {
  name?: string;
  trigger: { streamId?: string; detectorId?: string; minSeverity?: string };
  steps: { action: string; params?: Record<string, unknown> }[];
  requiresApproval?: boolean;
  allowSelfApproval?: boolean;
  cooldownSeconds?: number;
}

export async function registerRunbook(h: Harness, input: RunbookInput): Promise<{ id: string; name: string }> {
  const { registerRunbook } = await h.admin.request<{ registerRunbook: { id: string; name: string } }>(
    `mutation($input: RegisterRunbookInput!) { registerRunbook(input: $input) { id name } }`,
    { input: { name: uniqueName('rb'), ...input } },
  );
  return registerRunbook;
}

export const EXECUTION_FIELDS = /* GraphQL */ `
  id status requestedBy approvedBy verified createdAt finishedAt
  runbook { id } incident { id }
  steps { index action status attempts error output startedAt finishedAt }
`;

export interface StepView {
  index: number;
  action: string;
  status: string;
  attempts: number;
  error: string | null;
  output: unknown;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ExecutionView {
  id: string;
  status: string;
  requestedBy: string;
  approvedBy: string | null;
  verified: boolean | null;
  createdAt: string;
  finishedAt: string | null;
  runbook: { id: string };
  incident: { id: string } | null;
  steps: StepView[];
}

/** The execution as an OPERATOR reads it: step outputs are hidden from a VIEWER. */
export async function execution(h: Harness, id: string): Promise<ExecutionView> {
  const { execution } = await h.client(h.secrets.OPERATOR).request<{ execution: ExecutionView | null }>(
    `query($id: ID!) { execution(id: $id) { ${EXECUTION_FIELDS} } }`,
    { id },
  );
  if (!execution) throw new Error(`execution ${id} not found`);
  return execution;
}

/** Waits until the execution satisfies `done`; the failure message shows where it got stuck. */
export async function waitForExecution(
  h: Harness,
  id: string,
  done: (e: ExecutionView) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<ExecutionView> {
  let last: ExecutionView | undefined;
  return waitFor(
    async () => {
      last = await execution(h, id);
      return done(last) && last;
    },
    timeoutMs,
    () => `execution ${id} never became ${what}; last seen: ${JSON.stringify(last)}`,
    150,
  );
}

export const FINISHED = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export interface IncidentView {
  id: string;
  status: string;
  severity: string;
  anomalyCount: number;
  resolvedAt: string | null;
  timeline: { kind: string; message: string; actor: string | null }[];
  executions: { id: string; status: string; runbook: { id: string } }[];
}

const INCIDENT_FIELDS = /* GraphQL */ `
  id status severity anomalyCount resolvedAt
  timeline { kind message actor }
  executions { id status runbook { id } }
`;

export async function incident(h: Harness, id: string): Promise<IncidentView> {
  const { incident } = await h.client(h.secrets.VIEWER).request<{ incident: IncidentView | null }>(
    `query($id: ID!) { incident(id: $id) { ${INCIDENT_FIELDS} } }`,
    { id },
  );
  if (!incident) throw new Error(`incident ${id} not found`);
  return incident;
}

/** The stream's incidents, oldest first. */
export async function incidentsOf(h: Harness, streamId: string): Promise<IncidentView[]> {
  const { incidents } = await h.client(h.secrets.VIEWER).request<{ incidents: { edges: { node: IncidentView }[] } }>(
    `query($f: IncidentFilter) { incidents(filter: $f) { edges { node { ${INCIDENT_FIELDS} } } } }`,
    { f: { streamId } },
  );
  // Incidents list newest first; tests read them in the order they opened.
  return incidents.edges.map((e) => e.node).reverse();
}

/** Waits until the stream has at least `count` anomalies grouped into incidents. */
export async function anomaliesGrouped(h: Harness, streamId: string, count: number, timeoutMs = 30_000): Promise<void> {
  let seen = 0;
  await waitFor(
    async () => (seen = await h.runtime.services.ports.db.anomaly.count({ where: { streamId, incidentId: { not: null } } })) >= count,
    timeoutMs,
    () => `only ${seen} of ${count} anomalies of stream ${streamId} were grouped into incidents`,
  );
}

/** The executions of a runbook, oldest first, from the database (what was written, whatever the API shows). */
export function executionsOf(h: Harness, runbookId: string) {
  return h.runtime.services.ports.db.runbookExecution.findMany({ where: { runbookId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

/** Waits for the first execution of a runbook and returns its id. */
export async function firstExecutionOf(h: Harness, runbookId: string, timeoutMs = 30_000): Promise<string> {
  const found = await waitFor(
    async () => (await executionsOf(h, runbookId))[0],
    timeoutMs,
    () => `runbook ${runbookId} got no execution`,
  );
  return found.id;
}

/** Timeline kinds that runbooks write (the grouping ones, OPENED and ANOMALY_JOINED, left out). */
export function runbookKinds(timeline: { kind: string }[]): string[] {
  return timeline.map((t) => t.kind).filter((kind) => kind !== 'OPENED' && kind !== 'ANOMALY_JOINED');
}

/** Whether `header` (sha256=<hex>) is the HMAC-SHA256 of `rawBody` under `secret`. */
export function signatureVerifies(secret: string, rawBody: string, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const TRIGGER_RUNBOOK = /* GraphQL */ `
  mutation($runbookId: ID!, $incidentId: ID) { triggerRunbook(runbookId: $runbookId, incidentId: $incidentId) { id status requestedBy } }
`;
export const APPROVE_EXECUTION = /* GraphQL */ `mutation($id: ID!) { approveExecution(id: $id) { id status approvedBy } }`;
export const CANCEL_EXECUTION = /* GraphQL */ `mutation($id: ID!) { cancelExecution(id: $id) { id status finishedAt } }`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
