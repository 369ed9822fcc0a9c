import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';
import { seededLatencyEvents } from '../support/seeded-events.ts';
import { anomalyFingerprints, committedEvents, produceEvents, registerStreamWithDetectors } from '../support/streams.ts';

const prefix = uniqueName('replay');
const group = `${prefix}-group`;
let h: Harness;
let worker: Worker;

beforeAll(async () => {
  // The gateway's replayStream moves this group's offsets: the same group as the worker's.
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, checkpointEvents: 100 });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

const REPLAY = `mutation($input: ReplayInput!) { replayStream(input: $input) { stream { id } fromOffsets } }`;

describe('replayStream', () => {
  it('re-reads a stream without doubling anything, and a new detector version scores the old events', async () => {
    const stream = await registerStreamWithDetectors(h, `${prefix}-a`, 2);
    const events = seededLatencyEvents(3000, 5);
    await produceEvents([stream.topic], events);
    await waitFor(async () => (await committedEvents(h, group, stream.topic)) === events.length, 60_000, () => 'first pass did not finish');
    const firstPass = await anomalyFingerprints(h, stream.id);
    expect(firstPass.length).toBeGreaterThan(0);

    const operator = h.client(h.secrets.OPERATOR);
    const replayedAt = new Date();
    const { replayStream } = await operator.request<{ replayStream: { fromOffsets: Record<string, string> } }>(REPLAY, {
      input: { streamId: stream.id, fromOffsets: { 0: '0', 1: '0' } },
    });
    expect(replayStream.fromOffsets).toEqual({ 0: '0', 1: '0' });
    // The offsets of record went back (a new epoch), and the worker read everything again up to the end.
    const offsets = () => h.runtime.services.ports.db.consumerOffset.findMany({ where: { groupId: group, topic: stream.topic } });
    expect((await offsets()).map((o) => o.epoch)).toEqual([1, 1]);
    await waitFor(
      async () => (await offsets()).every((o) => o.updatedAt > replayedAt) && (await committedEvents(h, group, stream.topic)) === events.length,
      60_000,
      () => 'replay did not finish',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await anomalyFingerprints(h, stream.id)).toEqual(firstPass);

    // A new version of the z detector, then a replay by time: its anomalies are new rows; the old ones stay.
    const detector = (await h.runtime.services.ports.db.detector.findFirstOrThrow({ where: { streamId: stream.id, name: 'z' } })).id;
    await h.admin.request(`mutation($id: ID!) { updateDetector(id: $id, input: { params: { threshold: 4 } }) { version } }`, { id: detector });
    await new Promise((r) => setTimeout(r, 1500)); // the worker re-reads the registry every 500 ms here
    await operator.request(REPLAY, { input: { streamId: stream.id, fromTimestamp: '2000-01-01T00:00:00Z' } });
    await waitFor(
      async () => (await h.runtime.services.ports.db.anomaly.count({ where: { detectorId: detector, detectorVersion: 2 } })) > 0,
      60_000,
      () => 'the new version found nothing on replay',
    );
    await waitFor(async () => (await committedEvents(h, group, stream.topic)) === events.length, 60_000, () => 'second replay did not finish');
    const version1 = await h.runtime.services.ports.db.anomaly.count({ where: { detectorId: detector, detectorVersion: 1 } });
    expect(version1).toBe(firstPass.filter((f) => f.startsWith('z ')).length);
  }, 180_000);

  it('refuses bad input, naming the field', async () => {
    const stream = await registerStreamWithDetectors(h, `${prefix}-b`, 2);
    const operator = h.client(h.secrets.OPERATOR);
    const cases: [Record<string, unknown>, string][] = [
      [{ streamId: stream.id }, 'input.fromTimestamp'],
      [{ streamId: stream.id, fromTimestamp: '2026-01-01T00:00:00Z', fromOffsets: { 0: '1' } }, 'input.fromTimestamp'],
      [{ streamId: stream.id, fromOffsets: { 7: '1' } }, 'input.fromOffsets.7'],
      [{ streamId: stream.id, fromOffsets: { 0: '-3' } }, 'input.fromOffsets.0'],
      [{ streamId: 'str_nope', fromOffsets: { 0: '1' } }, 'input.streamId'],
    ];
    for (const [input, field] of cases) {
      const [error] = await graphqlErrors(operator.request(REPLAY, { input }));
      expect(error?.extensions.field, JSON.stringify(input)).toBe(field);
    }
    expect(await h.runtime.services.ports.db.consumerOffset.count({ where: { topic: stream.topic } })).toBe(0);
  });
});

describe('reprocessDeadLetters', () => {
  it('sends dead letters that the current contract accepts back through the stream', async () => {
    const name = `${prefix}-c`;
    const strict = { ...LATENCY_SCHEMA, required: ['host', 'latency_ms', 'region'], properties: { ...LATENCY_SCHEMA.properties, region: { type: 'string' } } };
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
      input: { name, topic: name, schema: strict, keyField: 'host', valueFields: ['latency_ms'], partitions: 1 },
    });
    const operator = h.client(h.secrets.OPERATOR);
    // Valid when published (no region is not checked here: publish the raw value with a producer instead).
    await h.runtime.services.ports.kafka.produce(stream.topic, [
      { key: 'h', value: JSON.stringify({ host: 'h', latency_ms: 10 }) },
      { key: 'h', value: '{not json' },
    ]);
    const letters = await waitFor(
      async () => {
        const rows = await h.runtime.services.ports.db.deadLetter.findMany({ where: { streamId: stream.id }, orderBy: { offset: 'asc' } });
        return rows.length === 2 ? rows : undefined;
      },
      60_000,
      () => 'the two dead letters did not appear',
    );
    expect(letters[0]!.reason).toContain('region');
    // Nothing passes yet: the contract still requires region.
    const ids = letters.map((l) => l.id);
    const none = await operator.request<{ reprocessDeadLetters: number }>(`mutation($ids: [ID!]!) { reprocessDeadLetters(ids: $ids) }`, { ids });
    expect(none.reprocessDeadLetters).toBe(0);
    // Relax the contract (backward compatible), and the first letter goes through; malformed JSON never does.
    await h.admin.request(`mutation($id: ID!, $s: JSON!) { updateStreamSchema(id: $id, schema: $s) { schemaVersion } }`, {
      id: stream.id,
      s: { ...strict, required: ['host', 'latency_ms'] },
    });
    const some = await operator.request<{ reprocessDeadLetters: number }>(`mutation($ids: [ID!]!) { reprocessDeadLetters(ids: $ids) }`, { ids });
    expect(some.reprocessDeadLetters).toBe(1);
    await waitFor(async () => (await committedEvents(h, group, stream.topic)) === 3, 60_000, () => 'the reprocessed event was not consumed');
    expect(await h.runtime.services.ports.db.deadLetter.count({ where: { streamId: stream.id } })).toBe(2);
    const again = await operator.request<{ reprocessDeadLetters: number }>(`mutation($ids: [ID!]!) { reprocessDeadLetters(ids: $ids) }`, { ids });
    expect(again.reprocessDeadLetters).toBe(0);
  }, 120_000);
});

describe('FRESHNESS', () => {
  it('reports a series that went silent, once, naming its last event', async () => {
    const name = `${prefix}-d`;
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
      input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms'], partitions: 1 },
    });
    await h.admin.request(`mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`, {
      input: { streamId: stream.id, name: 'fresh', field: 'latency_ms', kind: 'FRESHNESS', params: { maxGapSeconds: 1 } },
    });
    await new Promise((r) => setTimeout(r, 1200));
    await h.runtime.services.ports.kafka.produce(stream.topic, [{ key: 'quiet', value: JSON.stringify({ host: 'quiet', latency_ms: 1 }) }]);
    const anomaly = await waitFor(
      async () => (await h.runtime.services.ports.db.anomaly.findMany({ where: { streamId: stream.id } }))[0],
      30_000,
      () => 'no freshness anomaly',
    );
    expect(anomaly).toMatchObject({ seriesKey: 'quiet', offset: 0n });
    expect(anomaly.explanation).toMatch(/no latency_ms event for .* s \(limit 1 s/);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await h.runtime.services.ports.db.anomaly.count({ where: { streamId: stream.id } })).toBe(1);
  }, 60_000);

  it('after a restart, still reports a series that stayed silent, naming its last event from the checkpoint', async () => {
    // Its own stream and consumer group, so the two workers below are the only ones on it.
    const name = `fresh-${uniqueName('s')}`;
    const freshGroup = `${name}-group`;
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
      input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms'], partitions: 1 },
    });
    const { registerDetector: detector } = await h.admin.request<{ registerDetector: { id: string } }>(
      `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
      { input: { streamId: stream.id, name: 'fresh', field: 'latency_ms', kind: 'FRESHNESS', params: { maxGapSeconds: 4 } } },
    );
    const db = h.runtime.services.ports.db;
    let first: Worker | undefined = await startTestWorker(h, { streams: [name], group: freshGroup, checkpointEvents: 1 });
    let second: Worker | undefined;
    try {
      await h.runtime.services.ports.kafka.produce(stream.topic, [
        { key: 'a', value: JSON.stringify({ host: 'a', latency_ms: 1 }) },
        { key: 'b', value: JSON.stringify({ host: 'b', latency_ms: 2 }) },
      ]);
      await waitFor(
        async () => (await db.detectorCheckpoint.count({ where: { detectorId: detector.id, nextOffset: 2n } })) === 1,
        30_000,
        () => 'no checkpoint after both events',
      );
      // Stopped before the silence is due: only the next worker can report it, from the checkpoint alone (no new event comes).
      await first.stop();
      first = undefined;
      expect(await db.anomaly.count({ where: { streamId: stream.id } })).toBe(0);
      second = await startTestWorker(h, { streams: [name], group: freshGroup, checkpointEvents: 1 });
      const anomalies = await waitFor(
        async () => {
          const rows = await db.anomaly.findMany({ where: { streamId: stream.id }, orderBy: { offset: 'asc' } });
          return rows.length === 2 ? rows : undefined;
        },
        30_000,
        () => 'the restarted worker did not report both silent series',
      );
      expect(anomalies.map((a) => [a.seriesKey, a.offset, a.eventKey, a.value])).toEqual([
        ['a', 0n, 'a', 1],
        ['b', 1n, 'b', 2],
      ]);
      expect(anomalies[0]!.explanation).toMatch(/no latency_ms event for .* s \(limit 4 s/);
    } finally {
      await first?.stop();
      await second?.stop();
    }
  }, 90_000);
});

