import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigilClient, type VigilClient } from '../../sdk/index.ts';
import { SlaEvaluator } from '../../src/workflows/sla-evaluation.ts';
import { TEST_ADMIN_KEY, uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, startHarness, startTestWorker, type Harness, type TestWorker } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';
import { committedEvents, waitForCommitted } from '../support/streams.ts';

/**
 * Archived things stop running, and run again once restored: an archived
 * stream is not consumed (its events wait in Kafka), an archived detector
 * finds nothing, an archived runbook is not planned, an archived SLA is not
 * evaluated. Each "not" is checked beside a live twin that did run on the
 * same input, so the check cannot pass by the pipeline being slow.
 */
const prefix = uniqueName('archived');
const group = `${prefix}-group`;
let h: Harness;
let worker: TestWorker;
let sdk: VigilClient;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, workflows: { stepBackoffMs: 100, incidentSweepMs: 500 } });
  sdk = createVigilClient(h.url, TEST_ADMIN_KEY);
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

async function newStream(suffix: string) {
  const name = `${prefix}-${suffix}`;
  const { registerStream } = await sdk.registerStream({
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 1 },
  });
  return registerStream;
}

const detector = async (streamId: string, name: string) =>
  (await sdk.registerDetector({ input: { streamId, name, field: 'latency_ms', kind: 'THRESHOLD', params: { max: 500 } } })).registerDetector;
const spike = (latency = 900) => ({ host: 'web-1', latency_ms: latency, at: new Date().toISOString() });
const db = () => h.runtime.services.ports.db;

describe('archived things stop running', () => {
  it('an archived detector finds nothing and an archived runbook is not planned, beside live twins that do', async () => {
    const stream = await newStream('det');
    const archived = await detector(stream.id, 'archived-ceiling');
    const live = await detector(stream.id, 'live-ceiling');
    const runbook = async (name: string) =>
      (await sdk.registerRunbook({ input: { name: `${prefix}-${name}`, trigger: { streamId: stream.id }, steps: [{ action: 'NOTIFY' }], cooldownSeconds: 0 } })).registerRunbook;
    const archivedRunbook = await runbook('archived-rb');
    const liveRunbook = await runbook('live-rb');
    await sdk.archiveDetector({ id: archived.id });
    await sdk.archiveRunbook({ id: archivedRunbook.id });
    await worker.refreshed();

    await sdk.publishEvents({ streamId: stream.id, events: [spike()] });
    // Executions are planned in the transaction that opens the incident: once the live runbook's exists, so would the other's.
    await waitFor(async () => (await db().runbookExecution.count({ where: { runbookId: liveRunbook.id } })) > 0, 60_000, () => 'the live runbook never ran');
    expect(await db().anomaly.count({ where: { detectorId: live.id } })).toBe(1);
    expect(await db().anomaly.count({ where: { detectorId: archived.id } })).toBe(0);
    expect(await db().runbookExecution.count({ where: { runbookId: archivedRunbook.id } })).toBe(0);

    // Restored, the detector runs again on the next event.
    await sdk.restoreDetector({ id: archived.id });
    await worker.refreshed();
    await sdk.publishEvents({ streamId: stream.id, events: [spike(950)] });
    await waitFor(async () => (await db().anomaly.count({ where: { detectorId: archived.id } })) > 0, 60_000, () => 'the restored detector found nothing');
  }, 120_000);

  it('an archived stream is not consumed while its twin is; restored, the events that waited in Kafka are', async () => {
    const archived = await newStream('s-archived');
    const live = await newStream('s-live');
    await sdk.archiveStream({ id: archived.id });
    await worker.refreshed();

    await sdk.publishEvents({ streamId: archived.id, events: [spike(), spike()] });
    await sdk.publishEvents({ streamId: live.id, events: [spike(), spike()] });
    await waitForCommitted(h, group, live.topic, 2);
    expect(await committedEvents(h, group, archived.topic)).toBe(0);

    await sdk.restoreStream({ id: archived.id });
    await worker.refreshed();
    await waitForCommitted(h, group, archived.topic, 2);
  }, 120_000);

  it('an archived SLA is not evaluated while its twin is', async () => {
    const stream = await newStream('sla');
    const sla = async (name: string) =>
      (await sdk.registerSla({ input: { streamId: stream.id, name, objective: 'ERROR_RATE', threshold: 0.5, windowSeconds: 300 } })).registerSla;
    const archived = await sla('archived-errors');
    const live = await sla('live-errors');
    await sdk.archiveSla({ id: archived.id });

    const evaluator = new SlaEvaluator(h.runtime.services, h.runtime.services.ports.log);
    await evaluator.evaluateAll((name) => name === stream.name);
    const evaluatedAt = async (id: string) => (await db().sla.findUniqueOrThrow({ where: { id } })).evaluatedAt;
    expect(await evaluatedAt(live.id)).not.toBeNull();
    expect(await evaluatedAt(archived.id)).toBeNull();

    await sdk.restoreSla({ id: archived.id });
    await evaluator.evaluateAll((name) => name === stream.name);
    expect(await evaluatedAt(archived.id)).not.toBeNull();
  });
});
