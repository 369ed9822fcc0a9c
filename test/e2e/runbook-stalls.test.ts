import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/env.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.ts';
import { spawnVigil, waitFor, type VigilProcess } from '../support/processes.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import {
  execution,
  firstExecutionOf,
  incidentsOf,
  registerRunbook,
  runbookKinds,
  sendEvents,
  streamWithThreshold,
  waitForExecution,
} from '../support/runbooks.ts';

/**
 * Worker processes SIGKILLed while a WEBHOOK step is in flight, on a Redis of
 * this file's own: a step whose worker died is taken over once its lock
 * expires (VIGIL_STEP_LOCK_MS), and a step whose workers keep dying ends
 * FAILED after VIGIL_STEP_MAX_STALLS takeovers instead of staying RUNNING.
 */
let h: Harness;
let redis: PrivateRedis;
const hooks: Receiver[] = [];
const running: VigilProcess[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  h = await startHarness();
});
afterAll(async () => {
  for (const p of running) p.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
  for (const hook of hooks) await hook.close();
  await h?.close();
  await redis?.stop();
});

interface StepBody {
  step: { index: number; attempt: number; delivery: number };
}

const bodyOf = (rawBody: string) => JSON.parse(rawBody) as StepBody;

/** A worker process for one stream, on the private Redis; resolves once its runner and stream worker are up. */
async function startWorkerProcess(env: Record<string, string>): Promise<VigilProcess> {
  const p = spawnVigil(['worker', '--processes', '1'], { REDIS_URL: redis.url, VIGIL_SESSION_TIMEOUT_MS: '6000', ...env });
  running.push(p);
  await waitFor(async () => p.output().includes('worker started'), 60_000, () => `the worker did not start:\n${p.output().slice(-3000)}`);
  return p;
}

async function kill(p: VigilProcess): Promise<number> {
  p.kill('SIGKILL');
  expect(await p.exited).toBe('SIGKILL');
  return Date.now();
}

async function webhookRunbook(id: string, hook: Receiver) {
  const stream = await streamWithThreshold(h, id);
  const runbook = await registerRunbook(h, {
    trigger: { streamId: stream.id },
    // The answer may take long: the step must be in flight, not timed out, when its worker dies.
    steps: [{ action: 'WEBHOOK', params: { url: hook.url, timeoutMs: 60_000 } }, { action: 'NOTIFY' }],
  });
  const env = { VIGIL_WORKER_STREAMS: stream.name, VIGIL_CONSUMER_GROUP: `${id}-group`, VIGIL_QUEUE_PREFIX: `${id}-queue` };
  return { stream, runbook, env };
}

describe('a runbook step whose worker dies', () => {
  it('is re-run by another worker within 15 s, with the same Idempotency-Key and the next delivery number', async () => {
    const id = uniqueName('stall-rerun');
    // The first delivery is answered only after 20 s: its worker is killed while it waits.
    const hook = await startReceiver({ delayMs: (n) => (n === 1 ? 20_000 : 0) });
    hooks.push(hook);
    const { stream, runbook, env } = await webhookRunbook(id, hook);

    const first = await startWorkerProcess(env);
    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id, 60_000);
    await hook.waitForRequests(1, 60_000);
    // A second worker is up before the kill, as in a deployment with more than one.
    const second = await startWorkerProcess(env);
    expect((await execution(h, executionId)).steps.map((s) => s.status)).toEqual(['RUNNING', 'QUEUED']);

    const killedAt = await kill(first);
    const [, again] = await hook.waitForRequests(2, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\nsecond worker:\n${second.output().slice(-3000)}`);
    });
    const takeoverSeconds = (again!.receivedAt - killedAt) / 1000;
    console.log(`[runbook-stalls] a killed step was sent again ${takeoverSeconds.toFixed(1)} s after its worker was SIGKILLed`);
    expect(takeoverSeconds).toBeLessThan(15);

    // The same effect, told apart: one Idempotency-Key, the retry attempt unchanged, the delivery counted.
    const key = `${executionId}:0`;
    expect(hook.requests.map((r) => r.key)).toEqual([key, key]);
    expect(hook.requests.map((r) => bodyOf(r.rawBody).step.attempt)).toEqual([1, 1]);
    expect(hook.requests.map((r) => bodyOf(r.rawBody).step.delivery)).toEqual([1, 2]);

    const done = await waitForExecution(h, executionId, (e) => e.status === 'SUCCEEDED', 'SUCCEEDED', 60_000);
    expect(done.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    // The receiver did the work once: the second delivery was answered from its record.
    expect(hook.successes).toEqual(new Map([[key, 1]]));
    expect(hook.requests[1]!.replay).toBe(true);
  }, 180_000);

  it('ends the step and the execution FAILED, saying why, once its workers died more than VIGIL_STEP_MAX_STALLS times', async () => {
    const id = uniqueName('stall-limit');
    // Nothing is ever answered in time: every delivery is in flight when its worker dies.
    const hook = await startReceiver({ delayMs: () => 120_000 });
    hooks.push(hook);
    const { stream, runbook, env } = await webhookRunbook(id, hook);
    const stallEnv = { ...env, VIGIL_STEP_MAX_STALLS: '1', VIGIL_STEP_LOCK_MS: '2000' };

    let worker = await startWorkerProcess(stallEnv);
    await sendEvents(h, stream.topic, [{ at: 0, value: 1500 }]);
    const executionId = await firstExecutionOf(h, runbook.id, 60_000);
    // Killed twice mid-step: one takeover is allowed, the second is one too many.
    for (const delivery of [1, 2]) {
      await hook.waitForRequests(delivery, 60_000).catch((error: Error) => {
        throw new Error(`${error.message}\nworker:\n${worker.output().slice(-3000)}`);
      });
      await kill(worker);
      worker = await startWorkerProcess(stallEnv);
    }

    const done = await waitForExecution(h, executionId, (e) => e.status !== 'RUNNING', 'finished', 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\nlast worker:\n${worker.output().slice(-3000)}`);
    });
    expect(done.status).toBe('FAILED');
    expect(done.finishedAt).not.toBeNull();
    expect(done.steps.map((s) => [s.action, s.status])).toEqual([
      ['WEBHOOK', 'FAILED'],
      ['NOTIFY', 'CANCELLED'],
    ]);
    expect(done.steps[0]!.error).toBe("the step's worker stopped 2 times");
    // Not sent a third time.
    expect(hook.requests).toHaveLength(2);

    // The timeline says so, as for any step that failed for good: the runbook stopped.
    const [theIncident] = await incidentsOf(h, stream.id);
    const timeline = theIncident!.timeline;
    expect(runbookKinds(timeline)).toEqual(['RUNBOOK_QUEUED', 'RUNBOOK_STARTED', 'STEP_FAILED']);
    const failed = timeline.find((t) => t.kind === 'STEP_FAILED')!;
    expect(failed.message).toContain("step 1 (WEBHOOK) failed after 1 attempt(s): the step's worker stopped 2 times");
    expect(failed.message).toContain(`runbook "${runbook.name}" stopped`);
  }, 240_000);
});
