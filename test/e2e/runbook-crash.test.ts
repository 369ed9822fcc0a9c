import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullConnection, WORKFLOW_QUEUE } from '../../src/workflows/queue.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { spawnVigil, waitFor, type VigilProcess } from '../support/processes.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import {
  execution,
  firstExecutionOf,
  incidentsOf,
  registerRunbook,
  runbookKinds,
  sendEvents,
  signatureVerifies,
  streamWithThreshold,
  waitForExecution,
} from '../support/runbooks.ts';

/**
 * A worker process killed with SIGKILL while a WEBHOOK step is in flight:
 * BullMQ hands the step to the next worker once the dead one's lock expires
 * (lockDuration 10 s), the step is sent again with the same Idempotency-Key,
 * and the receiver, recognising the key, does its work only once.
 */
let h: Harness;
let hook: Receiver;
const running: VigilProcess[] = [];
// A queue of its own: runbook runners of other tests sharing this Redis must not take this test's step
// job, or the kill would not land on the worker sending the request.
const queuePrefix = uniqueName('vigil-crash-queue');

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const p of running) p.kill('SIGKILL');
  await hook?.close();
  const queue = new Queue(WORKFLOW_QUEUE, { connection: bullConnection(TEST_REDIS_URL), prefix: queuePrefix });
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await h?.close();
});

describe('a worker killed with SIGKILL during a WEBHOOK step', () => {
  it('the execution completes on the next worker, and the receiver does the work of each Idempotency-Key exactly once', async () => {
    const id = uniqueName('rbcrash');
    // The first request is answered only after 3 s: the worker is killed while it waits.
    hook = await startReceiver({ delayMs: (n) => (n === 1 ? 3000 : 0) });
    const stream = await streamWithThreshold(h, id);
    const secret = `crash-${uniqueName('k')}`;
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      steps: [
        { action: 'WEBHOOK', params: { url: hook.url, secret } },
        { action: 'WEBHOOK', params: { url: hook.url, secret } },
        { action: 'NOTIFY' },
      ],
    });
    const env = {
      VIGIL_WORKER_STREAMS: stream.name,
      VIGIL_CONSUMER_GROUP: `${id}-group`,
      VIGIL_STEP_BACKOFF_MS: '200',
      VIGIL_QUEUE_PREFIX: queuePrefix,
      VIGIL_SESSION_TIMEOUT_MS: '6000',
    };

    const first = spawnVigil(['worker', '--processes', '1'], env);
    running.push(first);
    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id, 60_000);
    await hook.waitForRequests(1, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\nworker output:\n${first.output().slice(-3000)}`);
    });
    first.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    // The kill landed mid-step: the request was not answered yet, and the step is recorded as running.
    expect(hook.requests[0]!.status).toBeUndefined();
    expect(hook.requests[0]!.key).toBe(`${executionId}:0`);
    const atKill = await execution(h, executionId);
    expect(atKill.status).toBe('RUNNING');
    expect(atKill.steps.map((s) => s.status)).toEqual(['RUNNING', 'QUEUED', 'QUEUED']);

    const second = spawnVigil(['worker', '--processes', '1'], env);
    running.push(second);
    const done = await waitForExecution(
      h,
      executionId,
      (e) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.status),
      'finished',
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nsecond worker output:\n${second.output().slice(-3000)}`);
    });
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);

    // Step 0 was sent again after the takeover, with the same key; the receiver recognised it.
    const keys = hook.requests.map((r) => r.key);
    expect(new Set(keys)).toEqual(new Set([`${executionId}:0`, `${executionId}:1`]));
    const step0 = hook.requests.filter((r) => r.key === `${executionId}:0`);
    expect(step0.length, `requests: ${JSON.stringify(hook.requests.map((r) => [r.key, r.status, r.replay]))}`).toBeGreaterThanOrEqual(2);
    expect(step0[0]!.replay).toBe(false);
    expect(step0.slice(1).every((r) => r.replay && r.status === 200)).toBe(true);
    expect(hook.successes).toEqual(
      new Map([
        [`${executionId}:0`, 1],
        [`${executionId}:1`, 1],
      ]),
    );
    // Every request, the repeated one included, is signed over exactly the body sent.
    expect(hook.requests.every((r) => signatureVerifies(secret, r.rawBody, r.headers['x-vigil-signature']))).toBe(true);

    // The timeline tells of one run, not two.
    const [theIncident] = await incidentsOf(h, stream.id);
    expect(runbookKinds(theIncident!.timeline)).toEqual([
      'RUNBOOK_QUEUED',
      'RUNBOOK_STARTED',
      'STEP_SUCCEEDED',
      'STEP_SUCCEEDED',
      'NOTIFIED',
      'STEP_SUCCEEDED',
      'RUNBOOK_SUCCEEDED',
    ]);

    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 150_000);
});
