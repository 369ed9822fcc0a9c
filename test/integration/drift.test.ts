import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';
import { mulberry32 } from '../support/seeded-events.ts';
import { committedEvents } from '../support/streams.ts';

const prefix = uniqueName('drift');
const group = `${prefix}-group`;
let h: Harness;
let worker: Worker;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

describe('drift', () => {
  it('marks the detector drifting and tells a person when its input shifts, and clears once it has re-baselined', async () => {
    const name = `${prefix}-s`;
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
      input: { name, topic: name, schema: LATENCY_SCHEMA, valueFields: ['latency_ms'], partitions: 1 },
    });
    const { registerDetector: detector } = await h.admin.request<{ registerDetector: { id: string; drifting: boolean } }>(
      `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id drifting } }`,
      { input: { streamId: stream.id, name: 'z', field: 'latency_ms', kind: 'ZSCORE', params: { window: 100, drift: 'REBASELINE' } } },
    );
    expect(detector.drifting).toBe(false);
    const random = mulberry32(9);
    const values = (count: number, level: number) =>
      Array.from({ length: count }, () => ({ key: 'h', value: JSON.stringify({ host: 'h', latency_ms: level + (random() - 0.5) * 4 }) }));
    const drifting = async () =>
      (await h.client(h.secrets.VIEWER).request<{ detector: { drifting: boolean } }>(`query($id: ID!) { detector(id: $id) { drifting } }`, { id: detector.id }))
        .detector.drifting;
    const driftIncident = () => h.runtime.services.ports.db.incident.findFirst({ where: { groupKey: `drift/${detector.id}` }, include: { timeline: true } });

    await h.runtime.services.ports.kafka.produce(stream.topic, [...values(200, 100), ...values(45, 160)]);
    await waitFor(async () => (await committedEvents(h, group, stream.topic)) === 245, 30_000, () => 'first part not consumed');
    expect(await drifting()).toBe(true);
    const opened = await driftIncident();
    expect(opened).toMatchObject({ status: 'OPEN', severity: 'INFO' });
    expect(opened!.timeline.map((t) => t.kind)).toEqual(['DRIFT_DETECTED']);

    await h.runtime.services.ports.kafka.produce(stream.topic, values(100, 160));
    await waitFor(async () => (await committedEvents(h, group, stream.topic)) === 345, 30_000, () => 'second part not consumed');
    expect(await drifting()).toBe(false);
    const closed = await driftIncident();
    expect(closed?.status).toBe('RESOLVED');
    expect(closed!.timeline.map((t) => t.kind)).toEqual(['DRIFT_DETECTED', 'DRIFT_CLEARED', 'RESOLVED']);
  });

  it('stays drifting while a series on another partition still drifts, and resolves when the last one clears', async () => {
    const name = `${prefix}-p`;
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
      input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms'], partitions: 2 },
    });
    const { registerDetector: detector } = await h.admin.request<{ registerDetector: { id: string } }>(
      `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
      { input: { streamId: stream.id, name: 'z', field: 'latency_ms', kind: 'ZSCORE', params: { window: 100, drift: 'REBASELINE' } } },
    );
    const random = mulberry32(11);
    // Host a on partition 0, host b on partition 1: two series, two partitions.
    const values = (host: 'a' | 'b', count: number, level: number) =>
      Array.from({ length: count }, () => ({
        key: host,
        partition: host === 'a' ? 0 : 1,
        value: JSON.stringify({ host, latency_ms: level + (random() - 0.5) * 4 }),
      }));
    const drifting = async () =>
      (await h.client(h.secrets.VIEWER).request<{ detector: { drifting: boolean } }>(`query($id: ID!) { detector(id: $id) { drifting } }`, { id: detector.id }))
        .detector.drifting;
    const driftIncident = () => h.runtime.services.ports.db.incident.findFirst({ where: { groupKey: `drift/${detector.id}` }, include: { timeline: { orderBy: { at: 'asc' } } } });
    const produce = (messages: ReturnType<typeof values>) => h.runtime.services.ports.kafka.produce(stream.topic, messages);
    let sent = 0;
    const consumed = async (batch: ReturnType<typeof values>, what: string) => {
      await produce(batch);
      sent += batch.length;
      await waitFor(async () => (await committedEvents(h, group, stream.topic)) === sent, 30_000, () => what);
    };

    await consumed([...values('a', 200, 100), ...values('a', 45, 160)], 'a did not drift');
    await consumed([...values('b', 200, 100), ...values('b', 45, 160)], 'b did not drift');
    expect(await drifting()).toBe(true);
    // a re-baselines; b, on the other partition, has not.
    await consumed(values('a', 100, 160), 'a did not clear');
    expect(await drifting()).toBe(true);
    const halfway = await driftIncident();
    expect(halfway?.status).toBe('OPEN');
    expect(halfway!.timeline.map((t) => t.kind)).toEqual(['DRIFT_DETECTED', 'DRIFT_DETECTED', 'DRIFT_CLEARED']);
    expect(halfway!.timeline.at(-1)!.message).toBe('new baseline learned (series a)');

    await consumed(values('b', 100, 160), 'b did not clear');
    expect(await drifting()).toBe(false);
    const closed = await driftIncident();
    expect(closed?.status).toBe('RESOLVED');
    expect(closed!.timeline.map((t) => t.kind)).toEqual(['DRIFT_DETECTED', 'DRIFT_DETECTED', 'DRIFT_CLEARED', 'DRIFT_CLEARED', 'RESOLVED']);
  });
});

