import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver, type ReceiverScript } from '../support/receiver.ts';
import {
  anomaliesGrouped,
  APPROVE_EXECUTION,
  CANCEL_EXECUTION,
  execution,
  executionsOf,
  firstExecutionOf,
  incident,
  incidentsOf,
  registerRunbook,
  runbookKinds,
  sendEvents,
  signatureVerifies,
  sleep,
  streamWithThreshold,
  TRIGGER_RUNBOOK,
  waitForExecution,
  type ExecutionView,
} from '../support/runbooks.ts';

/**
 * Runbooks end to end over the real services: anomalies from Kafka open an
 * incident, the incident writes an execution (the outbox), the relay hands it
 * to BullMQ and the runner POSTs to a real HTTP receiver on 127.0.0.1.
 */
const prefix = uniqueName('rbk');
const group = `${prefix}-group`;
let h: Harness;
let worker: Worker;
const receivers: Receiver[] = [];

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, workflows: { stepBackoffMs: 100, incidentSweepMs: 200 } });
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

async function receiver(script: ReceiverScript = {}): Promise<Receiver> {
  const r = await startReceiver(script);
  receivers.push(r);
  return r;
}

const succeeded = (e: ExecutionView) => e.status === 'SUCCEEDED';

describe('a runbook run by an incident', () => {
  it('runs once per incident, POSTs once per WEBHOOK step with key, signature and a body naming incident and execution', async () => {
    const hook = await receiver();
    const stream = await streamWithThreshold(h, prefix);
    const secret = `s3cret-${uniqueName('k')}`;
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      steps: [
        { action: 'WEBHOOK', params: { url: hook.url, secret } },
        { action: 'NOTIFY', params: { message: 'paging the on-call engineer' } },
      ],
    });

    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id);
    // More anomalies join the incident while the runbook runs: no second execution.
    await sendEvents(h, stream.topic, [
      { at: 1, value: 1600 },
      { at: 2, value: 1700 },
    ]);
    await anomaliesGrouped(h, stream.id, 3);
    const done = await waitForExecution(h, executionId, succeeded, 'SUCCEEDED');
    await sleep(1000);

    const [theIncident, ...others] = await incidentsOf(h, stream.id);
    expect(others).toEqual([]);
    expect(theIncident!.anomalyCount).toBe(3);
    expect((await executionsOf(h, runbook.id)).map((e) => e.id)).toEqual([executionId]);
    expect(theIncident!.executions.map((e) => e.id)).toEqual([executionId]);

    expect(done).toMatchObject({ status: 'SUCCEEDED', requestedBy: 'vigil (automatic)', incident: { id: theIncident!.id } });
    expect(done.finishedAt).not.toBeNull();
    expect(done.steps.map((s) => [s.index, s.action, s.status, s.attempts, s.error])).toEqual([
      [0, 'WEBHOOK', 'SUCCEEDED', 1, null],
      [1, 'NOTIFY', 'SUCCEEDED', 1, null],
    ]);

    // One POST for the one WEBHOOK step, and nothing more after the execution finished.
    expect(hook.requests).toHaveLength(1);
    const [post] = hook.requests;
    expect(post!.method).toBe('POST');
    expect(post!.headers['content-type']).toMatch(/^application\/json/);
    expect(post!.headers['idempotency-key']).toBe(`${executionId}:0`);
    expect(signatureVerifies(secret, post!.rawBody, post!.headers['x-vigil-signature'])).toBe(true);
    expect(signatureVerifies(`${secret}-wrong`, post!.rawBody, post!.headers['x-vigil-signature'])).toBe(false);
    expect(post!.rawBody).not.toContain(secret);
    const body = JSON.parse(post!.rawBody) as Record<string, Record<string, unknown>>;
    expect(body.incident).toMatchObject({ id: theIncident!.id, streamId: stream.id });
    expect(body.execution).toMatchObject({ id: executionId, runbookId: runbook.id, runbook: runbook.name });
    expect(body.step).toEqual({ index: 0, action: 'WEBHOOK', attempt: 1, delivery: 1 });
    expect(hook.successes).toEqual(new Map([[`${executionId}:0`, 1]]));
    expect(done.steps[0]!.output).toMatchObject({ status: 200 });

    const timeline = (await incident(h, theIncident!.id)).timeline;
    expect(runbookKinds(timeline)).toEqual(['RUNBOOK_QUEUED', 'RUNBOOK_STARTED', 'STEP_SUCCEEDED', 'NOTIFIED', 'STEP_SUCCEEDED', 'RUNBOOK_SUCCEEDED']);
    expect(timeline.find((t) => t.kind === 'NOTIFIED')).toMatchObject({ message: 'paging the on-call engineer', actor: `runbook ${runbook.name}` });
    expect(timeline.filter((t) => t.kind === 'ANOMALY_JOINED')).toHaveLength(2);
  });
});

describe('step retries', () => {
  it('retries a WEBHOOK that answers 500 twice, then succeeds on the third attempt with the same key', async () => {
    const hook = await receiver({ statuses: [500, 500], then: 200 });
    const stream = await streamWithThreshold(h, prefix);
    const runbook = await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'WEBHOOK', params: { url: hook.url } }] });

    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id);
    const done = await waitForExecution(h, executionId, succeeded, 'SUCCEEDED');
    await sleep(500);

    expect(done.steps).toHaveLength(1);
    expect(done.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 3, error: null });
    expect(hook.requests.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(hook.requests.map((r) => r.headers['idempotency-key'])).toEqual(Array(3).fill(`${executionId}:0`));
    expect(hook.requests.map((r) => (JSON.parse(r.rawBody) as { step: { attempt: number } }).step.attempt)).toEqual([1, 2, 3]);
    expect(hook.successes).toEqual(new Map([[`${executionId}:0`, 1]]));
    // No signature without a secret.
    expect(hook.requests[0]!.headers['x-vigil-signature']).toBeUndefined();

    const [theIncident] = await incidentsOf(h, stream.id);
    const timeline = (await incident(h, theIncident!.id)).timeline;
    expect(runbookKinds(timeline)).toEqual(['RUNBOOK_QUEUED', 'RUNBOOK_STARTED', 'STEP_RETRYING', 'STEP_RETRYING', 'STEP_SUCCEEDED', 'RUNBOOK_SUCCEEDED']);
    const retrying = timeline.filter((t) => t.kind === 'STEP_RETRYING').map((t) => t.message);
    expect(retrying[0]).toMatch(/attempt 1 of 5 failed: .*answered 500/);
    expect(retrying[1]).toMatch(/attempt 2 of 5 failed: .*answered 500/);
    expect(timeline.find((t) => t.kind === 'STEP_SUCCEEDED')!.message).toContain('after 3 attempt(s)');
  });

  it('fails the step and the execution after maxAttempts, saying why, and cancels the later steps', async () => {
    const hook = await receiver({ then: 503 });
    const stream = await streamWithThreshold(h, prefix);
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      steps: [
        { action: 'WEBHOOK', params: { url: hook.url, maxAttempts: 2 } },
        { action: 'NOTIFY' },
      ],
    });

    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id);
    const done = await waitForExecution(h, executionId, (e) => e.status === 'FAILED', 'FAILED');
    await sleep(1000);

    expect(done.finishedAt).not.toBeNull();
    expect(done.steps.map((s) => [s.action, s.status, s.attempts])).toEqual([
      ['WEBHOOK', 'FAILED', 2],
      ['NOTIFY', 'CANCELLED', 0],
    ]);
    expect(done.steps[0]!.error).toContain('answered 503');
    expect(hook.requests.map((r) => r.status)).toEqual([503, 503]);
    expect(hook.successes.size).toBe(0);

    const [theIncident] = await incidentsOf(h, stream.id);
    const timeline = (await incident(h, theIncident!.id)).timeline;
    expect(runbookKinds(timeline)).toEqual(['RUNBOOK_QUEUED', 'RUNBOOK_STARTED', 'STEP_RETRYING', 'STEP_FAILED']);
    const failed = timeline.find((t) => t.kind === 'STEP_FAILED')!;
    expect(failed.message).toMatch(/step 1 \(WEBHOOK\) failed after 2 attempt\(s\): .*answered 503/);
    expect(failed.message).toContain(`runbook "${runbook.name}" stopped`);
    // The execution stays FAILED: nothing picks it up again.
    expect((await executionsOf(h, runbook.id)).map((e) => e.status)).toEqual(['FAILED']);
  });

  it('does not retry a WEBHOOK answered 400: the request itself is wrong', async () => {
    const hook = await receiver({ then: 400 });
    const stream = await streamWithThreshold(h, prefix);
    const runbook = await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'WEBHOOK', params: { url: hook.url } }] });

    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id);
    const done = await waitForExecution(h, executionId, (e) => e.status === 'FAILED', 'FAILED');
    await sleep(1000);
    expect(done.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1, error: expect.stringContaining('answered 400') });
    expect(hook.requests).toHaveLength(1);
  });
});

describe('approval', () => {
  it('holds executions PENDING_APPROVAL until an OPERATOR approves; a cancelled one never runs; a VIEWER cannot approve', async () => {
    const hook = await receiver();
    const stream = await streamWithThreshold(h, prefix);
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      requiresApproval: true,
      steps: [{ action: 'WEBHOOK', params: { url: hook.url } }, { action: 'NOTIFY' }],
    });
    const operatorName = uniqueName('approver');
    const operator = h.client((await h.createKey('OPERATOR', operatorName)).secret);

    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const automatic = await firstExecutionOf(h, runbook.id);
    const [theIncident] = await incidentsOf(h, stream.id);
    // A run by hand needs approval too.
    const { triggerRunbook: manual } = await operator.request<{ triggerRunbook: { id: string; status: string; requestedBy: string } }>(
      TRIGGER_RUNBOOK,
      { runbookId: runbook.id, incidentId: theIncident!.id },
    );
    expect(manual).toMatchObject({ status: 'PENDING_APPROVAL', requestedBy: operatorName });

    // Longer than the relay's 2 s poll: nothing is handed to the runner while waiting for approval.
    await sleep(3000);
    for (const id of [automatic, manual.id]) {
      const pending = await execution(h, id);
      expect(pending).toMatchObject({ status: 'PENDING_APPROVAL', approvedBy: null });
      expect(pending.steps.map((s) => [s.status, s.attempts])).toEqual([
        ['QUEUED', 0],
        ['QUEUED', 0],
      ]);
    }
    expect(hook.requests).toHaveLength(0);

    const [refused] = await graphqlErrors(h.client(h.secrets.VIEWER).request(APPROVE_EXECUTION, { id: automatic }));
    expect(refused?.extensions.code).toBe('FORBIDDEN');
    expect((await execution(h, automatic)).status).toBe('PENDING_APPROVAL');

    const { cancelExecution } = await operator.request<{ cancelExecution: { status: string; finishedAt: string | null } }>(CANCEL_EXECUTION, {
      id: manual.id,
    });
    expect(cancelExecution.status).toBe('CANCELLED');
    expect(cancelExecution.finishedAt).not.toBeNull();

    const { approveExecution } = await operator.request<{ approveExecution: { status: string; approvedBy: string } }>(APPROVE_EXECUTION, {
      id: automatic,
    });
    expect(approveExecution).toEqual({ id: automatic, status: 'QUEUED', approvedBy: operatorName });
    const done = await waitForExecution(h, automatic, succeeded, 'SUCCEEDED');
    expect(done).toMatchObject({ status: 'SUCCEEDED', approvedBy: operatorName, requestedBy: 'vigil (automatic)' });
    expect(done.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);

    // The cancelled one never ran, and cannot be approved any more.
    await sleep(2500);
    const cancelled = await execution(h, manual.id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', approvedBy: null });
    expect(cancelled.steps.map((s) => [s.status, s.attempts])).toEqual([
      ['CANCELLED', 0],
      ['CANCELLED', 0],
    ]);
    expect(hook.requests.map((r) => r.headers['idempotency-key'])).toEqual([`${automatic}:0`]);
    const [late] = await graphqlErrors(operator.request(APPROVE_EXECUTION, { id: manual.id }));
    expect(late?.extensions.code).toBe('BAD_USER_INPUT');

    const timeline = (await incident(h, theIncident!.id)).timeline;
    expect(runbookKinds(timeline)).toEqual([
      'RUNBOOK_PENDING_APPROVAL',
      'RUNBOOK_PENDING_APPROVAL',
      'RUNBOOK_CANCELLED',
      'RUNBOOK_APPROVED',
      'RUNBOOK_STARTED',
      'STEP_SUCCEEDED',
      'NOTIFIED',
      'STEP_SUCCEEDED',
      'RUNBOOK_SUCCEEDED',
    ]);
  });
});

describe('cooldown', () => {
  it('skips a runbook cooling down for the stream when a second incident opens, saying so on its timeline', async () => {
    const stream = await streamWithThreshold(h, prefix, { incidentPolicy: { correlationWindowSeconds: 60 } });
    const cooling = await registerRunbook(h, { trigger: { streamId: stream.id }, cooldownSeconds: 3600, steps: [{ action: 'NOTIFY' }] });
    // A control without cooldown: the second incident does call for runbooks.
    const eager = await registerRunbook(h, { trigger: { streamId: stream.id }, cooldownSeconds: 0, steps: [{ action: 'NOTIFY' }] });

    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const first = await firstExecutionOf(h, cooling.id);
    await waitForExecution(h, first, succeeded, 'SUCCEEDED');
    // An hour later in event time: far beyond the correlation window, so a second incident opens.
    await sendEvents(h, stream.topic, [{ at: 3600, value: 1500 }]);
    await anomaliesGrouped(h, stream.id, 2);

    const incidents = await incidentsOf(h, stream.id);
    expect(incidents).toHaveLength(2);
    const [firstIncident, secondIncident] = incidents;
    expect((await executionsOf(h, cooling.id)).map((e) => [e.id, e.incidentId])).toEqual([[first, firstIncident!.id]]);
    expect((await executionsOf(h, eager.id)).map((e) => e.incidentId)).toEqual([firstIncident!.id, secondIncident!.id]);

    const timeline = (await incident(h, secondIncident!.id)).timeline;
    const skipped = timeline.filter((t) => t.kind === 'RUNBOOK_SKIPPED');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.message).toContain(`runbook "${cooling.name}" is cooling down for this stream (3600 s since ${first})`);
    expect(secondIncident!.executions.map((e) => e.runbook.id)).toEqual([eager.id]);
  });

  it('runs a runbook triggered by hand for an incident even inside its cooldown', async () => {
    const hook = await receiver();
    const stream = await streamWithThreshold(h, prefix);
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      cooldownSeconds: 3600,
      steps: [{ action: 'WEBHOOK', params: { url: hook.url } }],
    });
    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const automatic = await firstExecutionOf(h, runbook.id);
    await waitForExecution(h, automatic, succeeded, 'SUCCEEDED');
    const [theIncident] = await incidentsOf(h, stream.id);

    const operatorName = uniqueName('hand');
    const operator = h.client((await h.createKey('OPERATOR', operatorName)).secret);
    const { triggerRunbook } = await operator.request<{ triggerRunbook: { id: string; status: string; requestedBy: string } }>(TRIGGER_RUNBOOK, {
      runbookId: runbook.id,
      incidentId: theIncident!.id,
    });
    expect(triggerRunbook).toMatchObject({ status: 'QUEUED', requestedBy: operatorName });
    const manual = await waitForExecution(h, triggerRunbook.id, succeeded, 'SUCCEEDED');
    expect(manual.incident).toEqual({ id: theIncident!.id });
    expect(hook.requests.map((r) => r.headers['idempotency-key'])).toEqual([`${automatic}:0`, `${triggerRunbook.id}:0`]);
    expect(JSON.parse(hook.requests[1]!.rawBody)).toMatchObject({ execution: { id: triggerRunbook.id, requestedBy: operatorName } });

    const timeline = (await incident(h, theIncident!.id)).timeline;
    expect(runbookKinds(timeline).filter((k) => k === 'RUNBOOK_SUCCEEDED')).toHaveLength(2);
    expect(timeline.find((t) => t.kind === 'RUNBOOK_QUEUED' && t.message.includes(triggerRunbook.id))?.actor).toBe(operatorName);
    expect(timeline.some((t) => t.kind === 'RUNBOOK_SKIPPED')).toBe(false);

    // A VIEWER cannot trigger.
    const [refused] = await graphqlErrors(h.client(h.secrets.VIEWER).request(TRIGGER_RUNBOOK, { runbookId: runbook.id, incidentId: theIncident!.id }));
    expect(refused?.extensions.code).toBe('FORBIDDEN');
    expect(await executionsOf(h, runbook.id)).toHaveLength(2);
  });
});
