import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { Catalog } from '../../src/stream/catalog.ts';
import { ContractCache } from '../../src/stream/contracts.ts';
import { silenceFor } from '../../src/stream/maintenance-silences.ts';
import { ensureSelfStream, SELF_STREAM_NAME, SELF_STREAM_TOPIC } from '../../src/workflows/self-monitor.ts';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, testConfig, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';

/**
 * Silences through the real gateway, worker, Kafka and PostgreSQL: anomalies
 * in a window are recorded with it and open no incident; outside it, or out
 * of its scope (another detector, another series), they open one as usual.
 */
const prefix = uniqueName('sil');
let h: Harness;
let worker: Worker;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: `${prefix}-group` });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group: `${prefix}-group` });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

const REGISTER_DETECTOR = `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`;
const CREATE = `mutation($input: CreateSilenceInput!) { createSilence(input: $input) { id startsAt endsAt active reason createdBy detector { id } seriesKey } }`;
const END = `mutation($id: ID!) { endSilence(id: $id) { id endsAt active endedBy } }`;

/** A stream with two THRESHOLD detectors (max 1000): every value above 1000 is an anomaly of each. */
async function setUp() {
  const name = `${prefix}-${uniqueName('s')}`;
  const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 1 },
  });
  const detector = async (detectorName: string) =>
    (
      await h.admin.request<{ registerDetector: { id: string } }>(REGISTER_DETECTOR, {
        input: { streamId: stream.id, name: detectorName, field: 'latency_ms', kind: 'THRESHOLD', params: { max: 1000 } },
      })
    ).registerDetector.id;
  return { stream, first: await detector('ceiling'), second: await detector('ceiling-2') };
}

async function send(topic: string, points: { at: number; host?: string }[]) {
  await h.runtime.services.ports.kafka.produce(
    topic,
    points.map((p) => ({ key: p.host ?? 'web-1', value: JSON.stringify({ host: p.host ?? 'web-1', latency_ms: 1500, at: new Date(p.at).toISOString() }) })),
  );
}

const db = () => h.runtime.services.ports.db;

/** Waits until `count` anomalies of the stream are recorded, and grouped when they open incidents. */
async function settled(streamId: string, count: number) {
  await waitFor(async () => (await db().anomaly.count({ where: { streamId } })) >= count, 30_000, () => `fewer than ${count} anomalies`);
  // Grouping commits in the anomalies' own transaction: once recorded, they are grouped too.
  return db().anomaly.findMany({ where: { streamId }, orderBy: { eventTime: 'asc' }, select: { detectorId: true, seriesKey: true, silenceId: true, incidentId: true } });
}

async function create(input: Record<string, unknown>, secret = h.secrets.OPERATOR) {
  return (await h.client(secret).request<{ createSilence: { id: string; active: boolean; createdBy: string } }>(CREATE, { input })).createSilence;
}

describe('a silence', () => {
  it('records anomalies in its window with it and opens no incident; once ended, the next anomaly opens one', async () => {
    const { stream } = await setUp();
    const now = Date.now();
    const silence = await create({ streamId: stream.id, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), reason: 'failover drill' });
    expect(silence.active).toBe(true);
    await send(stream.topic, [{ at: now }]);
    const during = await settled(stream.id, 2);
    expect(during.map((a) => [a.silenceId, a.incidentId])).toEqual([
      [silence.id, null],
      [silence.id, null],
    ]);
    expect(await db().incident.count({ where: { streamId: stream.id } })).toBe(0);

    const { endSilence } = await h.client(h.secrets.OPERATOR).request<{ endSilence: { endsAt: string; active: boolean; endedBy: string } }>(END, { id: silence.id });
    expect(endSilence.active).toBe(false);
    await send(stream.topic, [{ at: Date.parse(endSilence.endsAt) + 1_000 }]);
    const after = (await settled(stream.id, 4)).slice(2);
    expect(after.every((a) => a.silenceId === null && a.incidentId !== null)).toBe(true);
    expect(await db().incident.count({ where: { streamId: stream.id } })).toBe(2);
  });

  it('covers only its detector and its series when it names them', async () => {
    const { stream, first, second } = await setUp();
    const now = Date.now();
    const silence = await create({ streamId: stream.id, detectorId: first, seriesKey: 'web-1', endsAt: new Date(now + 3_600_000).toISOString(), reason: 'web-1 redeploy' });
    // Events of now, after the silence began (it starts when it is made).
    const at = Date.now();
    await send(stream.topic, [{ at }, { at: at + 1, host: 'web-2' }]);
    const anomalies = await settled(stream.id, 4);
    const of = (detectorId: string, seriesKey: string) => anomalies.find((a) => a.detectorId === detectorId && a.seriesKey === seriesKey)!;
    expect(of(first, 'web-1')).toMatchObject({ silenceId: silence.id, incidentId: null });
    expect(of(first, 'web-2')).toMatchObject({ silenceId: null, incidentId: expect.stringMatching(/^inc_/) });
    expect(of(second, 'web-1')).toMatchObject({ silenceId: null, incidentId: expect.stringMatching(/^inc_/) });
    expect(of(second, 'web-2')).toMatchObject({ silenceId: null, incidentId: expect.stringMatching(/^inc_/) });
  });

  it('is shown on the anomaly it silenced, and listed while it holds (with includeEnded, after too)', async () => {
    const { stream } = await setUp();
    const now = Date.now();
    const silence = await create({ streamId: stream.id, endsAt: new Date(now + 3_600_000).toISOString(), reason: 'load test' });
    await send(stream.topic, [{ at: Date.now() }]);
    await settled(stream.id, 2);
    const read = `query($s: ID!) {
      anomalies(filter: { streamId: $s }, first: 5) { edges { node { silence { id reason } incident { id } } } }
      silences(streamId: $s) { edges { node { id reason createdBy active } } }
    }`;
    const viewer = h.client(h.secrets.VIEWER);
    const seen = await viewer.request<{ anomalies: { edges: { node: unknown }[] }; silences: { edges: { node: { id: string; createdBy: string } }[] } }>(read, { s: stream.id });
    expect(seen.anomalies.edges.map((e) => e.node)).toEqual([
      { silence: { id: silence.id, reason: 'load test' }, incident: null },
      { silence: { id: silence.id, reason: 'load test' }, incident: null },
    ]);
    expect(seen.silences.edges.map((e) => e.node)).toEqual([{ id: silence.id, reason: 'load test', createdBy: silence.createdBy, active: true }]);
    await h.client(h.secrets.OPERATOR).request(END, { id: silence.id });
    const listed = `query($s: ID!, $e: Boolean) { silences(streamId: $s, includeEnded: $e) { edges { node { id endedBy } } } }`;
    expect((await viewer.request<{ silences: { edges: unknown[] } }>(listed, { s: stream.id })).silences.edges).toEqual([]);
    expect((await viewer.request<{ silences: { edges: unknown[] } }>(listed, { s: stream.id, e: true })).silences.edges).toHaveLength(1);
  });
});

describe("a whole stream's silence", () => {
  it("also covers Vigil's self-monitoring of that stream's pipeline, as a worker of the self stream loads it", async () => {
    const { stream } = await setUp();
    const { stream: other, first: otherDetector } = await setUp();
    const now = Date.now();
    const window = { startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 3_600_000).toISOString() };
    const whole = await create({ streamId: stream.id, ...window, reason: 'broker upgrade' });
    // Narrower silences say nothing about the pipeline: its lag is not one detector's or one series'.
    await create({ streamId: other.id, detectorId: otherDetector, ...window, reason: 'one detector' });
    await create({ streamId: other.id, seriesKey: 'web-1', ...window, reason: 'one host' });
    const self = await ensureSelfStream(h.runtime.services, testConfig(), h.runtime.services.ports.log);
    const lag = await db().detector.findFirstOrThrow({ where: { streamId: self.id, name: 'lag' } });

    const catalog = new Catalog(db(), new ContractCache(db()), [SELF_STREAM_NAME]);
    await catalog.reload();
    const silences = catalog.stream(SELF_STREAM_TOPIC)?.silences;
    expect(silenceFor(silences, lag.id, stream.id, now)).toBe(whole.id);
    expect(silenceFor(silences, lag.id, other.id, now)).toBeNull();
    expect(silenceFor(silences, lag.id, stream.id, Date.parse(window.endsAt))).toBeNull();
  });
});

describe('createSilence refuses', () => {
  let streamId: string;
  let otherDetector: string;
  beforeAll(async () => {
    streamId = (await setUp()).stream.id;
    otherDetector = (await setUp()).first;
  });
  const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

  it.each([
    ['an end in the past', () => ({ endsAt: new Date(Date.now() - 1000).toISOString() }), 'input.endsAt'],
    ['an end before the start', () => ({ startsAt: new Date(Date.now() + 7_200_000).toISOString() }), 'input.endsAt'],
    ['more than 7 days', () => ({ endsAt: new Date(Date.now() + 8 * 86_400_000).toISOString() }), 'input.endsAt'],
    ['an empty reason', () => ({ reason: '   ' }), 'input.reason'],
    ['a detector of another stream', () => ({ detectorId: otherDetector }), 'input.detectorId'],
    ['an empty series key', () => ({ seriesKey: '' }), 'input.seriesKey'],
  ])('%s with BAD_USER_INPUT naming the field, and writes nothing', async (_label, overrides, field) => {
    const before = await db().silence.count({ where: { streamId } });
    const [error] = await graphqlErrors(create({ streamId, endsAt: inAnHour(), reason: 'drill', ...overrides() }));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await db().silence.count({ where: { streamId } })).toBe(before);
  });

  it('an unknown stream with NOT_FOUND, and a VIEWER with FORBIDDEN', async () => {
    const [missing] = await graphqlErrors(create({ streamId: 'str_unknown', endsAt: inAnHour(), reason: 'drill' }));
    expect(missing?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.streamId' });
    const [forbidden] = await graphqlErrors(create({ streamId, endsAt: inAnHour(), reason: 'drill' }, h.secrets.VIEWER));
    expect(forbidden?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});
