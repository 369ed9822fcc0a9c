import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { SERIES_POINTS_PER_FLUSH } from '../../src/stream/series-points.ts';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';
import { committedEvents } from '../support/streams.ts';

/**
 * The chart's data end to end: events through Kafka and a real worker, the
 * points it leaves in Redis after the commit, read back through the
 * seriesPoints query.
 */
const prefix = uniqueName('series');
const group = `${prefix}-group`;
let h: Harness;
let worker: Worker;

interface Point {
  at: string;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  anomalous: boolean;
}

const SERIES_POINTS = /* GraphQL */ `
  query($detectorId: ID!, $seriesKey: String, $last: Int) {
    seriesPoints(detectorId: $detectorId, seriesKey: $seriesKey, last: $last) { at value expected lower upper anomalous }
  }
`;

async function seriesPoints(detectorId: string, seriesKey: string | null, last?: number): Promise<Point[]> {
  const result = await h.client(h.secrets.VIEWER).request<{ seriesPoints: Point[] }>(SERIES_POINTS, { detectorId, seriesKey, last });
  return result.seriesPoints;
}

async function registerStream(name: string, keyField: string | null): Promise<{ id: string; topic: string }> {
  const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField, timestampField: 'at', valueFields: ['latency_ms'], partitions: 1 },
  });
  return stream;
}

async function registerDetector(streamId: string, kind: string, params: Record<string, unknown>): Promise<string> {
  const { registerDetector } = await h.admin.request<{ registerDetector: { id: string } }>(
    `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
    { input: { streamId, name: kind.toLowerCase(), field: 'latency_ms', kind, params } },
  );
  return registerDetector.id;
}

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

describe('seriesPoints', () => {
  // A whole second, so the thinning below is about these events' seconds and no clock.
  const start = Math.floor(Date.now() / 1000) * 1000 - 60_000;

  it('returns the scored values with their band, one a second plus every anomaly, per series', async () => {
    const stream = await registerStream(`${prefix}-keyed`, 'host');
    const detectorId = await registerDetector(stream.id, 'THRESHOLD', { min: 10, max: 100 });
    // Host a: three events a second for ten seconds; the middle one of second 5 breaches the maximum. Host b: one event.
    const events: { host: string; latency_ms: number; at: number }[] = [];
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 3; i++) {
        const latency = second === 5 && i === 1 ? 500 : 50 + second + i;
        events.push({ host: 'a', latency_ms: latency, at: start + second * 1000 + i * 300 });
      }
    }
    events.push({ host: 'b', latency_ms: 42, at: start + 2_000 });
    // One produce call: one record batch, which the worker reads as one batch.
    await h.runtime.services.ports.kafka.produce(
      stream.topic,
      events.map((e) => ({ key: e.host, value: JSON.stringify({ ...e, at: new Date(e.at).toISOString() }) })),
    );
    await waitFor(async () => (await committedEvents(h, group, stream.topic)) === events.length, 30_000, () => 'events not consumed');
    // The points are written after the commit, without holding the batch: wait until they are there.
    let lastRead: Point[] = [];
    // Which of two failures this is, should it fail (it has, rarely, under a full run): the events were not
    // scored by the detector (no anomaly either), or they were and the points did not reach Redis.
    let anomaliesRecorded = 0;
    const points = await waitFor(
      async () => {
        anomaliesRecorded = await h.runtime.services.ports.db.anomaly.count({ where: { detectorId } });
        const read = (lastRead = await seriesPoints(detectorId, 'a'));
        return read.length > 0 && read.at(-1)!.value === 61 ? read : null;
      },
      30_000,
      () =>
        `series points of host a not recorded; last read ${JSON.stringify(lastRead.map((p) => [p.at, p.value]))}; ` +
        `anomalies of the detector recorded: ${anomaliesRecorded} (1 expected: 0 means the events were not scored)`,
    );

    const expected: Point[] = [];
    for (let second = 0; second < 10; second++) {
      const band = { expected: null, lower: 10, upper: 100 };
      if (second === 5) expected.push({ at: new Date(start + 5_300).toISOString(), value: 500, ...band, anomalous: true });
      // The last event of each second stands for it.
      expected.push({ at: new Date(start + second * 1000 + 600).toISOString(), value: 52 + second, ...band, anomalous: false });
    }
    expect(points).toEqual(expected);
    expect(await seriesPoints(detectorId, 'b')).toEqual([{ at: new Date(start + 2_000).toISOString(), value: 42, expected: null, lower: 10, upper: 100, anomalous: false }]);
    // `last` takes the newest ones, still oldest first.
    expect((await seriesPoints(detectorId, 'a', 2)).map((p) => p.value)).toEqual([60, 61]);
    // A series that never scored, and the series without a key on a keyed stream, have no points.
    expect(await seriesPoints(detectorId, 'nobody')).toEqual([]);
    expect(await seriesPoints(detectorId, null)).toEqual([]);
    // The anomalous point is the anomaly that was recorded.
    const anomalies = await h.runtime.services.ports.db.anomaly.findMany({ where: { detectorId } });
    expect(anomalies.map((a) => ({ value: a.value, at: a.eventTime.toISOString() }))).toEqual([{ value: 500, at: new Date(start + 5_300).toISOString() }]);
  });

  it('reads the series without a key when seriesKey is null, with the expected value once the baseline is learnt', async () => {
    const stream = await registerStream(`${prefix}-unkeyed`, null);
    const detectorId = await registerDetector(stream.id, 'ZSCORE', { window: 20, warmup: 5 });
    // Published at once, they run ahead of the clock: one flush sends SERIES_POINTS_PER_FLUSH ordinary points of a series.
    const values = Array.from({ length: SERIES_POINTS_PER_FLUSH }, (_, i) => 100 + (i % 2 === 0 ? 2 : -2));
    await h.runtime.services.ports.kafka.produce(
      stream.topic,
      values.map((latency, i) => ({ key: null, value: JSON.stringify({ host: 'h', latency_ms: latency, at: new Date(start + i * 1000).toISOString() }) })),
    );
    await waitFor(async () => (await committedEvents(h, group, stream.topic)) === values.length, 30_000, () => 'events not consumed');
    const points = await waitFor(
      async () => {
        const read = await seriesPoints(detectorId, null, 720);
        return read.length === values.length ? read : null;
      },
      10_000,
      () => 'series points of the series without a key not recorded',
    );
    expect(points.map((p) => p.value)).toEqual(values);
    expect(points.map((p) => Date.parse(p.at))).toEqual(values.map((_, i) => start + i * 1000));
    expect(points.some((p) => p.anomalous)).toBe(false);
    const last = points.at(-1)!;
    expect(last.expected).toBeCloseTo(100, 0);
    expect(last.lower!).toBeLessThan(last.expected!);
    expect(last.upper!).toBeGreaterThan(last.expected!);
    // The default is the newest 300 (all of them here); seriesKey absent is the same as null.
    const { seriesPoints: byDefault } = await h.client(h.secrets.VIEWER).request<{ seriesPoints: Point[] }>(
      `query($id: ID!) { seriesPoints(detectorId: $id) { value } }`,
      { id: detectorId },
    );
    expect(byDefault.map((p) => p.value)).toEqual(values);
  });

  it.each([0, -1, 721])('refuses last: %i with BAD_USER_INPUT naming last', async (last) => {
    // Checked before the detector is looked up: an unknown one does not hide the bad input.
    const errors = await graphqlErrors(seriesPoints('det_unknown', null, last));
    expect(errors.map((e) => ({ code: e.extensions.code, field: e.extensions.field }))).toEqual([{ code: 'BAD_USER_INPUT', field: 'last' }]);
    expect(errors[0]!.message).toContain('1 to 720');
  });

  it('answers NOT_FOUND for an unknown detector', async () => {
    const errors = await graphqlErrors(seriesPoints('det_unknown', 'a'));
    expect(errors.map((e) => ({ code: e.extensions.code, field: e.extensions.field }))).toEqual([{ code: 'NOT_FOUND', field: 'detectorId' }]);
  });

  it('is refused without a key', async () => {
    const errors = await graphqlErrors(h.client().request(SERIES_POINTS, { detectorId: 'det_unknown' }));
    expect(errors.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
  });
});
