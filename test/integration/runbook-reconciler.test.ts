import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { bullConnection, jobIds, WORKFLOW_QUEUE } from '../../src/workflows/queue.ts';
import { uniqueName } from '../support/env.ts';
import { startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.ts';
import { waitFor } from '../support/processes.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import {
  firstExecutionOf,
  incident,
  registerRunbook,
  runbookKinds,
  sendEvents,
  streamWithThreshold,
  waitForExecution,
} from '../support/runbooks.ts';

/**
 * Redis SIGKILLed and started again empty while a runbook step waits for its
 * retry: the delayed job is gone with everything else, and the reconciler,
 * finding the execution RUNNING in PostgreSQL with no job in Redis, enqueues
 * the step again; the execution reaches a final state.
 */
let h: Harness;
let redis: PrivateRedis;
let hook: Receiver | undefined;
let worker: Worker | undefined;
let queue: Queue | undefined;
let verifyingWorker: Worker | undefined;
let verifyQueue: Queue | undefined;

beforeAll(async () => {
  redis = await startPrivateRedis();
  h = await startHarness({ env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  await worker?.stop();
  await queue?.close();
  await verifyingWorker?.stop();
  await verifyQueue?.close();
  await hook?.close();
  await h?.close();
  await redis?.stop();
});

describe('the runbook reconciler', () => {
  it('enqueues again a step whose retry Redis lost, and the execution ends', async () => {
    const id = uniqueName('reconcile');
    hook = await startReceiver({ statuses: [503], then: 200 });
    const stream = await streamWithThreshold(h, id);
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      steps: [{ action: 'WEBHOOK', params: { url: hook.url, maxAttempts: 3 } }, { action: 'NOTIFY' }],
    });
    const queuePrefix = `${id}-queue`;
    worker = await startTestWorker(h, {
      streams: [stream.name],
      group: `${id}-group`,
      // The retry would wait a minute: only the reconciler can bring the step back within the test.
      workflows: { queuePrefix, stepBackoffMs: 60_000, reconcileMs: 500 },
    });
    queue = new Queue(WORKFLOW_QUEUE, { connection: bullConnection(redis.url), prefix: queuePrefix });
    queue.on('error', () => undefined);

    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id);
    await hook.waitForRequests(1);
    const stepJob = jobIds.step(executionId, 0);
    await waitFor(async () => (await queue!.getJobState(stepJob)) === 'delayed', 10_000, () => 'the step never waited for its retry');
    const waiting = await waitForExecution(h, executionId, (e) => e.steps[0]!.error !== null, 'a failed first attempt');
    expect(waiting.status).toBe('RUNNING');
    expect(waiting.steps.map((s) => [s.status, s.attempts])).toEqual([
      ['RUNNING', 1],
      ['QUEUED', 0],
    ]);

    await redis.kill();
    await redis.start();
    const restartedAt = Date.now();

    const done = await waitForExecution(h, executionId, (e) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.status), 'finished', 30_000);
    const [, retried] = hook.requests;
    console.log(`[runbook-reconciler] the lost retry was sent ${((retried!.receivedAt - restartedAt) / 1000).toFixed(1)} s after Redis came back empty`);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps.map((s) => [s.status, s.attempts])).toEqual([
      ['SUCCEEDED', 2],
      ['SUCCEEDED', 1],
    ]);
    // The retry goes on from the attempt it had reached, under the same Idempotency-Key.
    const key = `${executionId}:0`;
    expect(hook.requests.map((r) => [r.key, r.status, (JSON.parse(r.rawBody) as { step: { attempt: number } }).step.attempt])).toEqual([
      [key, 503, 1],
      [key, 200, 2],
    ]);
    expect(hook.successes).toEqual(new Map([[key, 1]]));

    const timeline = (await incident(h, done.incident!.id)).timeline;
    expect(runbookKinds(timeline)).toEqual(['RUNBOOK_QUEUED', 'RUNBOOK_STARTED', 'STEP_RETRYING', 'STEP_SUCCEEDED', 'NOTIFIED', 'STEP_SUCCEEDED', 'RUNBOOK_SUCCEEDED']);
  });

  it('enqueues again a verification Redis lost, due when it was due, and the incident is judged', async () => {
    const id = uniqueName('reverify');
    const stream = await streamWithThreshold(h, id);
    const runbook = await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'NOTIFY', params: { verifyWithinSeconds: 6 } }] });
    const queuePrefix = `${id}-queue`;
    verifyingWorker = await startTestWorker(h, { streams: [stream.name], group: `${id}-group`, workflows: { queuePrefix, reconcileMs: 500 } });
    verifyQueue = new Queue(WORKFLOW_QUEUE, { connection: bullConnection(redis.url), prefix: queuePrefix });
    verifyQueue.on('error', () => undefined);

    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id);
    const succeeded = await waitForExecution(h, executionId, (e) => e.status === 'SUCCEEDED', 'succeeded');
    expect(succeeded.verified).toBeNull();
    const verifyJob = jobIds.verify(executionId);
    await waitFor(async () => (await verifyQueue!.getJobState(verifyJob)) === 'delayed', 10_000, () => 'the verification was never scheduled');

    await redis.kill();
    await redis.start();
    // Redis came back empty: only the reconciler can bring the verification back.
    const verified = await waitForExecution(h, executionId, (e) => e.verified !== null, 'verified', 30_000);
    expect(verified.verified).toBe(true);
    // Not before it was due: 6 s after the execution finished.
    expect(Date.now() - Date.parse(verified.finishedAt!)).toBeGreaterThanOrEqual(6_000);
    const judged = await incident(h, verified.incident!.id);
    expect(runbookKinds(judged.timeline)).toContain('VERIFIED');
  });
});
