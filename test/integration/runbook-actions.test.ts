import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { uniqueName } from '../support/env.ts';
import { startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { registerRunbook, sendEvents, streamWithThreshold, TRIGGER_RUNBOOK, waitForExecution } from '../support/runbooks.ts';
import { committedEvents } from '../support/streams.ts';
import { waitFor } from '../support/processes.ts';

/** The actions not covered elsewhere: SCALE posts to the scale hook; REPLAY re-reads the stream. */
const prefix = uniqueName('rba');
const group = `${prefix}-group`;
let h: Harness;
let worker: Worker;
let scaleHook: Receiver;

beforeAll(async () => {
  scaleHook = await startReceiver();
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, {
    streams: [`${prefix}*`],
    group,
    workflows: { stepBackoffMs: 100, scaleHookUrl: scaleHook.url },
  });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
  await scaleHook?.close();
});

describe('SCALE', () => {
  it('POSTs the target and replicas to the scale hook once', async () => {
    const stream = await streamWithThreshold(h, prefix);
    const runbook = await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'SCALE', params: { target: 'deployment/api', replicas: 6 } }] });
    const { triggerRunbook } = await h.client(h.secrets.OPERATOR).request<{ triggerRunbook: { id: string } }>(TRIGGER_RUNBOOK, { runbookId: runbook.id });
    const done = await waitForExecution(h, triggerRunbook.id, (e) => e.status === 'SUCCEEDED', 'SUCCEEDED');
    expect(done.steps[0]).toMatchObject({ action: 'SCALE', status: 'SUCCEEDED', attempts: 1 });
    const posts = scaleHook.requests.filter((r) => r.rawBody.includes(triggerRunbook.id));
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.rawBody)).toEqual({ target: 'deployment/api', replicas: 6, executionId: triggerRunbook.id });
    expect(posts[0]!.headers['idempotency-key']).toBe(`${triggerRunbook.id}:0`);
  });
});

describe('REPLAY', () => {
  it("re-reads the incident's stream from the incident start, adding no duplicate anomaly", async () => {
    const stream = await streamWithThreshold(h, prefix);
    await sendEvents(h, stream.topic, [
      { at: 0, value: 10 },
      { at: 1, value: 1500 },
      { at: 2, value: 20 },
    ]);
    const incident = await waitFor(
      async () => h.runtime.services.ports.db.incident.findFirst({ where: { streamId: stream.id } }),
      30_000,
      () => 'no incident',
    );
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      steps: [{ action: 'REPLAY', params: { fromTimestamp: '2000-01-01T00:00:00Z' } }],
      cooldownSeconds: 0,
    });
    const before = await h.runtime.services.ports.db.consumerOffset.findFirstOrThrow({ where: { groupId: group, topic: stream.topic } });
    const { triggerRunbook } = await h.client(h.secrets.OPERATOR).request<{ triggerRunbook: { id: string } }>(TRIGGER_RUNBOOK, {
      runbookId: runbook.id,
      incidentId: incident.id,
    });
    const done = await waitForExecution(h, triggerRunbook.id, (e) => e.status === 'SUCCEEDED', 'SUCCEEDED');
    expect(done.steps[0]?.output).toEqual({ fromOffsets: { 0: '0' } });
    const after = await h.runtime.services.ports.db.consumerOffset.findFirstOrThrow({ where: { groupId: group, topic: stream.topic } });
    expect(after.epoch).toBe(before.epoch + 1);
    await waitFor(async () => (await committedEvents(h, group, stream.topic)) === 3, 30_000, () => 'the replay did not read the stream again');
    expect(await h.runtime.services.ports.db.anomaly.count({ where: { streamId: stream.id } })).toBe(1);
  });
});
