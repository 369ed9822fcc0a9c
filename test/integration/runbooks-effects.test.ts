import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Worker } from '../../src/stream/worker-options.ts';
import { uniqueName } from '../support/env.ts';
import { startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';
import {
  anomaliesGrouped,
  APPROVE_EXECUTION,
  EXECUTION_FIELDS,
  execution,
  firstExecutionOf,
  incident,
  incidentsOf,
  registerRunbook,
  runbookKinds,
  sendEvents,
  sleep,
  streamWithThreshold,
  TRIGGER_RUNBOOK,
  waitForExecution,
  type ExecutionView,
} from '../support/runbooks.ts';
import { committedEvents } from '../support/streams.ts';

/**
 * What runbooks do beyond their own bookkeeping: pause and resume a stream's
 * consumption, verify a remediation afterwards, and tell subscribers.
 */
const prefix = uniqueName('rbe');
const group = `${prefix}-group`;
let h: Harness;
let worker: Worker;
const clients: Client[] = [];

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, workflows: { stepBackoffMs: 100, incidentSweepMs: 200 } });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

const succeeded = (e: ExecutionView) => e.status === 'SUCCEEDED';

async function streamStatus(id: string): Promise<string> {
  const { stream } = await h.client(h.secrets.VIEWER).request<{ stream: { status: string } }>(`query($id: ID) { stream(id: $id) { status } }`, { id });
  return stream.status;
}

describe('PAUSE_STREAM and RESUME_STREAM', () => {
  it('a paused stream is not consumed until a RESUME_STREAM runbook makes it ACTIVE again', async () => {
    const stream = await streamWithThreshold(h, prefix);
    const pause = await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'PAUSE_STREAM' }] });
    // Triggered by hand only: its trigger asks for CRITICAL, and this stream's anomalies are WARNING.
    const resume = await registerRunbook(h, {
      trigger: { streamId: stream.id, minSeverity: 'CRITICAL' },
      steps: [{ action: 'RESUME_STREAM', params: { streamId: stream.id } }],
    });

    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const paused = await waitForExecution(h, await firstExecutionOf(h, pause.id), succeeded, 'SUCCEEDED');
    expect(paused.steps[0]).toMatchObject({ action: 'PAUSE_STREAM', status: 'SUCCEEDED', output: { stream: stream.id, status: 'PAUSED' } });
    expect(await streamStatus(stream.id)).toBe('PAUSED');
    await waitFor(async () => (await committedEvents(h, group, stream.topic)) === 1, 10_000, () => 'the first event was not committed');

    // The worker re-reads the registry every 500 ms and leaves the paused topic.
    await sleep(2500);
    await sendEvents(h, stream.topic, [
      { at: 10, value: 5 },
      { at: 11, value: 2500 },
      { at: 12, value: 6 },
    ]);
    const samples: number[] = [];
    for (let i = 0; i < 8; i++) {
      await sleep(500);
      samples.push(await committedEvents(h, group, stream.topic));
    }
    expect(samples, 'ConsumerOffset of the paused stream over 4 s').toEqual(Array(8).fill(1));
    expect(await h.runtime.services.ports.db.anomaly.count({ where: { streamId: stream.id } })).toBe(1);

    const [theIncident] = await incidentsOf(h, stream.id);
    const operator = h.client(h.secrets.OPERATOR);
    const { triggerRunbook } = await operator.request<{ triggerRunbook: { id: string } }>(TRIGGER_RUNBOOK, {
      runbookId: resume.id,
      incidentId: theIncident!.id,
    });
    const resumed = await waitForExecution(h, triggerRunbook.id, succeeded, 'SUCCEEDED');
    expect(resumed.steps[0]).toMatchObject({ action: 'RESUME_STREAM', status: 'SUCCEEDED', output: { stream: stream.id, status: 'ACTIVE' } });
    expect(await streamStatus(stream.id)).toBe('ACTIVE');

    // The events produced while paused are consumed now.
    let committed = 0;
    await waitFor(
      async () => (committed = await committedEvents(h, group, stream.topic)) === 4,
      30_000,
      () => `the resumed stream was not consumed: ${committed} of 4 events committed`,
    );
    await anomaliesGrouped(h, stream.id, 2);
    expect((await incident(h, theIncident!.id)).anomalyCount).toBe(2);
  }, 90_000);
});

describe('verification', () => {
  it('no new anomaly within verifyWithinSeconds: verified, and the incident resolves', async () => {
    const stream = await streamWithThreshold(h, prefix, { severity: 'WARNING' });
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      steps: [{ action: 'NOTIFY', params: { verifyWithinSeconds: 2 } }],
    });
    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id);
    const done = await waitForExecution(h, executionId, succeeded, 'SUCCEEDED');

    const verified = await waitForExecution(h, executionId, (e) => e.verified !== null, 'verified or not', 20_000);
    expect(verified.verified).toBe(true);
    // The verdict waited for the window after the runbook finished.
    expect(Date.now() - Date.parse(done.finishedAt!)).toBeGreaterThanOrEqual(2000);
    const [theIncident] = await incidentsOf(h, stream.id);
    expect(theIncident).toMatchObject({ status: 'RESOLVED', severity: 'WARNING' });
    expect(theIncident!.resolvedAt).not.toBeNull();
    expect(runbookKinds(theIncident!.timeline)).toEqual([
      'RUNBOOK_QUEUED',
      'RUNBOOK_STARTED',
      'NOTIFIED',
      'STEP_SUCCEEDED',
      'RUNBOOK_SUCCEEDED',
      'VERIFYING',
      'VERIFIED',
    ]);
    expect(theIncident!.timeline.at(-1)!.message).toContain(`after runbook "${runbook.name}": resolved`);
  });

  it('anomalies keep coming after the runbook: not verified, and the incident goes up one severity level', async () => {
    const stream = await streamWithThreshold(h, prefix, { severity: 'WARNING' });
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      steps: [{ action: 'NOTIFY', params: { verifyWithinSeconds: 2 } }],
    });
    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id);
    await waitForExecution(h, executionId, succeeded, 'SUCCEEDED');

    // The remediation did not help: anomalies go on until the verdict.
    let at = 1;
    let verdict: ExecutionView | undefined;
    const deadline = Date.now() + 20_000;
    while (!verdict && Date.now() < deadline) {
      await sendEvents(h, stream.topic, [{ at: at++, value: 1800 }]);
      await sleep(250);
      const seen = await execution(h, executionId);
      if (seen.verified !== null) verdict = seen;
    }
    expect(verdict, 'the execution never got a verification verdict').toBeDefined();
    expect(verdict!.verified).toBe(false);

    const [theIncident, ...others] = await incidentsOf(h, stream.id);
    expect(others).toEqual([]);
    expect(theIncident).toMatchObject({ status: 'OPEN', severity: 'CRITICAL', resolvedAt: null });
    expect(theIncident!.anomalyCount).toBeGreaterThan(1);
    const kinds = runbookKinds(theIncident!.timeline);
    expect(kinds.slice(0, 6)).toEqual(['RUNBOOK_QUEUED', 'RUNBOOK_STARTED', 'NOTIFIED', 'STEP_SUCCEEDED', 'RUNBOOK_SUCCEEDED', 'VERIFYING']);
    expect(kinds.filter((k) => k === 'NOT_VERIFIED')).toHaveLength(1);
    expect(kinds).not.toContain('VERIFIED');
    const notVerified = theIncident!.timeline.find((t) => t.kind === 'NOT_VERIFIED')!;
    expect(notVerified.message).toMatch(
      new RegExp(`runbook "${runbook.name}" did not help: \\d+ new anomal(y|ies) since it finished; severity WARNING -> CRITICAL`),
    );
    // Escalated by the verdict, not by the runbook's trigger: no second execution.
    expect(theIncident!.executions.map((e) => e.id)).toEqual([executionId]);
  });
});

describe('executionUpdates over graphql-ws', () => {
  it('a VIEWER hears an execution change until it is SUCCEEDED', async () => {
    const stream = await streamWithThreshold(h, prefix);
    // Approval holds the execution back until the subscription is known to be live.
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      requiresApproval: true,
      steps: [{ action: 'NOTIFY' }, { action: 'NOTIFY' }],
    });
    const { triggerRunbook } = await h.client(h.secrets.OPERATOR).request<{ triggerRunbook: { id: string; status: string } }>(TRIGGER_RUNBOOK, {
      runbookId: runbook.id,
    });
    expect(triggerRunbook.status).toBe('PENDING_APPROVAL');
    const executionId = triggerRunbook.id;

    const client = createClient({
      url: h.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${h.secrets.VIEWER}` },
    });
    clients.push(client);
    const results: FormattedExecutionResult<{ executionUpdates: ExecutionView }, unknown>[] = [];
    let failure: unknown;
    let completed = false;
    client.subscribe<{ executionUpdates: ExecutionView }>(
      { query: `subscription($runbookId: ID) { executionUpdates(runbookId: $runbookId) { ${EXECUTION_FIELDS} } }`, variables: { runbookId: runbook.id } },
      { next: (r) => results.push(r), error: (e) => (failure = e), complete: () => (completed = true) },
    );
    const updates = () => results.flatMap((r) => (r.data?.executionUpdates ? [r.data.executionUpdates] : []));
    const heard = () =>
      JSON.stringify({ statuses: updates().map((u) => u.status), errors: results.flatMap((r) => r.errors ?? []), failure: String(failure), completed });

    // A subscription hears changes committed after it starts. Until it is surely live, each round
    // commits a probe (another execution of the runbook): once a probe is heard, what follows is too.
    const probes = new Set<string>();
    await waitFor(
      async () => {
        const { triggerRunbook: probe } = await h.client(h.secrets.OPERATOR).request<{ triggerRunbook: { id: string } }>(TRIGGER_RUNBOOK, { runbookId: runbook.id });
        probes.add(probe.id);
        return updates().some((u) => probes.has(u.id)) || failure !== undefined || completed;
      },
      15_000,
      () => `the subscription never heard a probe execution: ${heard()}`,
      200,
    );

    // Another key than the one that requested it: the requester cannot approve (four eyes).
    await h.admin.request(APPROVE_EXECUTION, { id: executionId });
    await waitFor(
      async () => updates().some((u) => u.status === 'SUCCEEDED') || failure !== undefined || completed,
      30_000,
      () => `the subscription never heard SUCCEEDED: ${heard()}`,
    );
    expect(failure).toBeUndefined();
    expect(completed).toBe(false);
    expect(results.every((r) => r.errors === undefined)).toBe(true);

    const all = updates();
    expect(all.every((u) => (u.id === executionId || probes.has(u.id)) && u.runbook.id === runbook.id)).toBe(true);
    const after = all.filter((u) => u.id === executionId);
    const statuses = after.map((u) => u.status);
    // In lifecycle order, through RUNNING, ending SUCCEEDED.
    const order = ['QUEUED', 'RUNNING', 'SUCCEEDED'];
    expect(statuses.every((s) => order.includes(s)), heard()).toBe(true);
    expect([...statuses].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(statuses);
    expect(statuses).toContain('RUNNING');
    expect(statuses.at(-1)).toBe('SUCCEEDED');
    const last = after.at(-1)!;
    expect(last.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(last.approvedBy).not.toBeNull();
    // Progress of the steps was heard on the way, not only the end.
    expect(after.some((u) => u.status === 'RUNNING' && u.steps.some((s) => s.status !== 'SUCCEEDED'))).toBe(true);
  });
});
