import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { uniqueName } from '../support/env.ts';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { graphqlErrors, LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';

const prefix = uniqueName('inc');
let h: Harness;
let worker: Worker;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: `${prefix}-group` });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group: `${prefix}-group`, workflows: { incidentSweepMs: 200 } });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

/** A stream with a THRESHOLD detector (max 1000): every value above 1000 is an anomaly, from the first event. */
async function setUp(options: { severity?: string; mode?: string; incidentPolicy?: Record<string, unknown> } = {}) {
  const name = `${prefix}-${uniqueName('s')}`;
  const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 1 },
  });
  const { registerDetector: detector } = await h.admin.request<{ registerDetector: { id: string } }>(
    `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
    { input: { streamId: stream.id, name: 'ceiling', field: 'latency_ms', kind: 'THRESHOLD', params: { max: 1000 }, ...options } },
  );
  return { stream, detector };
}

const base = Date.parse('2026-11-30T08:00:00Z');
let sent = 0;
/** Events at `secondsFromBase` (event time), over the limit when `bad`. */
async function send(topic: string, points: { at: number; value: number; host?: string }[]) {
  await h.runtime.services.ports.kafka.produce(
    topic,
    points.map((p) => ({
      key: p.host ?? 'web-1',
      value: JSON.stringify({ host: p.host ?? 'web-1', latency_ms: p.value, at: new Date(base + p.at * 1000).toISOString() }),
    })),
  );
  sent += points.length;
}

const INCIDENTS = `query($f: IncidentFilter) { incidents(filter: $f) { edges { node {
  id status severity anomalyCount title timeline { kind message } anomalies { edges { node { id } } }
} } } }`;

type IncidentView = { id: string; status: string; severity: string; anomalyCount: number; title: string; timeline: { kind: string; message: string }[] };

async function incidentsOf(streamId: string): Promise<IncidentView[]> {
  const { incidents } = await h.client(h.secrets.VIEWER).request<{ incidents: { edges: { node: IncidentView }[] } }>(INCIDENTS, { f: { streamId } });
  // Incidents list newest first; these tests read them in the order they opened.
  return incidents.edges.map((e) => e.node).reverse();
}

async function anomaliesRecorded(streamId: string, count: number) {
  await waitFor(
    async () => (await h.runtime.services.ports.db.anomaly.count({ where: { streamId, incidentId: { not: null } } })) >= count,
    30_000,
    () => `fewer than ${count} grouped anomalies`,
  );
}

describe('incident grouping', () => {
  it('groups a burst into one incident, and a burst after the correlation window into a second', async () => {
    const { stream } = await setUp({ incidentPolicy: { correlationWindowSeconds: 60 } });
    await send(stream.topic, [
      { at: 0, value: 5 },
      { at: 1, value: 1500 },
      { at: 2, value: 1600 },
      { at: 30, value: 1700 },
      { at: 50, value: 7 },
      { at: 80, value: 1800 },
    ]);
    await anomaliesRecorded(stream.id, 4);
    let incidents = await incidentsOf(stream.id);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ status: 'OPEN', anomalyCount: 4 });
    expect(incidents[0]!.timeline.map((t) => t.kind)).toEqual(['OPENED', 'ANOMALY_JOINED', 'ANOMALY_JOINED', 'ANOMALY_JOINED']);

    await send(stream.topic, [{ at: 80 + 61, value: 1900 }, { at: 80 + 62, value: 1950 }]);
    await anomaliesRecorded(stream.id, 6);
    incidents = await incidentsOf(stream.id);
    expect(incidents.map((i) => i.anomalyCount)).toEqual([4, 2]);
  });

  it('escalates to the highest severity seen', async () => {
    const { stream, detector } = await setUp();
    await send(stream.topic, [{ at: 0, value: 2000 }]);
    await anomaliesRecorded(stream.id, 1);
    await h.admin.request(`mutation($id: ID!) { updateDetector(id: $id, input: { severity: CRITICAL }) { version } }`, { id: detector.id });
    await send(stream.topic, [{ at: 5, value: 2100 }]);
    await anomaliesRecorded(stream.id, 2);
    const [incident] = await incidentsOf(stream.id);
    expect(incident).toMatchObject({ severity: 'CRITICAL', anomalyCount: 2 });
    expect(incident!.timeline.map((t) => t.kind)).toContain('ESCALATED');
  });

  it('resolves a quiet incident by itself, and reopens it when anomalies return within the flap window', async () => {
    const { stream } = await setUp({ incidentPolicy: { quietPeriodSeconds: 1, flapWindowSeconds: 600 } });
    await send(stream.topic, [{ at: 0, value: 3000 }]);
    await anomaliesRecorded(stream.id, 1);
    const resolved = await waitFor(
      async () => (await incidentsOf(stream.id)).find((i) => i.status === 'RESOLVED'),
      30_000,
      () => 'the quiet incident did not resolve',
    );
    expect(resolved.timeline.at(-1)).toMatchObject({ kind: 'AUTO_RESOLVED' });

    await send(stream.topic, [{ at: 3600, value: 3100 }]);
    await anomaliesRecorded(stream.id, 2);
    const incidents = await incidentsOf(stream.id);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ id: resolved.id, status: 'OPEN', anomalyCount: 2 });
    expect(incidents[0]!.timeline.map((t) => t.kind)).toContain('REOPENED');
  });

  it('groups per series when the detector asks for it', async () => {
    const { stream } = await setUp({ incidentPolicy: { groupBy: 'SERIES' } });
    await send(stream.topic, [
      { at: 0, value: 1500, host: 'a' },
      { at: 1, value: 1500, host: 'b' },
      { at: 2, value: 1500, host: 'a' },
    ]);
    await anomaliesRecorded(stream.id, 3);
    const incidents = await incidentsOf(stream.id);
    expect(incidents.map((i) => i.anomalyCount).sort()).toEqual([1, 2]);
    expect(incidents.map((i) => i.title).sort()).toEqual([expect.stringContaining('(a)'), expect.stringContaining('(b)')]);
  });

  it('never opens an incident for a SHADOW detector', async () => {
    const { stream } = await setUp({ mode: 'SHADOW' });
    await send(stream.topic, [{ at: 0, value: 5000 }, { at: 1, value: 5000 }]);
    await waitFor(
      async () => (await h.runtime.services.ports.db.anomaly.count({ where: { streamId: stream.id, shadow: true } })) === 2,
      30_000,
      () => 'shadow anomalies were not recorded',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await incidentsOf(stream.id)).toEqual([]);
  });
});

describe('incident lifecycle', () => {
  it('acknowledge and resolve with notes, on the timeline with the actor', async () => {
    const { stream } = await setUp();
    await send(stream.topic, [{ at: 0, value: 1234 }]);
    await anomaliesRecorded(stream.id, 1);
    const [incident] = await incidentsOf(stream.id);
    const operator = h.client(h.secrets.OPERATOR);
    const ack = await operator.request<{ acknowledgeIncident: { status: string; acknowledgedAt: string } }>(
      `mutation($id: ID!) { acknowledgeIncident(id: $id, note: "looking") { status acknowledgedAt } }`,
      { id: incident!.id },
    );
    expect(ack.acknowledgeIncident.status).toBe('ACKNOWLEDGED');
    await operator.request(`mutation($id: ID!) { resolveIncident(id: $id, note: "fixed the cache") { status } }`, { id: incident!.id });
    const [after] = await incidentsOf(stream.id);
    expect(after!.status).toBe('RESOLVED');
    expect(after!.timeline.slice(-2)).toEqual([
      { kind: 'ACKNOWLEDGED', message: 'acknowledged: looking' },
      { kind: 'RESOLVED', message: 'resolved: fixed the cache' },
    ]);
  });
});

describe('feedback and live updates', () => {
  it('labels anomalies and reports precision per detector; a VIEWER cannot label', async () => {
    const { stream, detector } = await setUp();
    await send(stream.topic, [{ at: 0, value: 1100 }, { at: 1, value: 1200 }, { at: 2, value: 1300 }]);
    await anomaliesRecorded(stream.id, 3);
    const ids = (await h.runtime.services.ports.db.anomaly.findMany({ where: { streamId: stream.id }, orderBy: { offset: 'asc' } })).map((a) => a.id);
    const label = `mutation($id: ID!, $l: AnomalyLabel!) { labelAnomaly(id: $id, label: $l, note: "checked") { label } }`;
    const [refused] = await graphqlErrors(h.client(h.secrets.VIEWER).request(label, { id: ids[0], l: 'TRUE_POSITIVE' }));
    expect(refused?.extensions.code).toBe('FORBIDDEN');
    const operator = h.client(h.secrets.OPERATOR);
    await operator.request(label, { id: ids[0], l: 'TRUE_POSITIVE' });
    await operator.request(label, { id: ids[1], l: 'TRUE_POSITIVE' });
    await operator.request(label, { id: ids[2], l: 'FALSE_POSITIVE' });
    const { detector: read } = await h.client(h.secrets.VIEWER).request<{ detector: { stats: Record<string, unknown> } }>(
      `query($id: ID!) { detector(id: $id) { stats { anomalies truePositives falsePositives precision } } }`,
      { id: detector.id },
    );
    expect(read.stats).toEqual({ anomalies: 3, truePositives: 2, falsePositives: 1, precision: 2 / 3 });
  });

  it('sends incident updates to graphql-ws subscribers, filtered by stream', async () => {
    const { stream } = await setUp();
    const other = await setUp();
    const client = createClient({ url: h.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${h.secrets.VIEWER}` } });
    try {
      const seen: { id: string; status: string; anomalyCount: number; stream: { id: string } }[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`updates seen: ${JSON.stringify(seen)}`)), 30_000);
        client.subscribe(
          { query: `subscription($f: IncidentFilter) { incidentUpdates(filter: $f) { id status anomalyCount stream { id } } }`, variables: { f: { streamId: stream.id } } },
          {
            next: (message) => {
              const update = (message.data as { incidentUpdates: (typeof seen)[number] }).incidentUpdates;
              seen.push(update);
              if (update.anomalyCount >= 2) {
                clearTimeout(timer);
                resolve();
              }
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
      await waitFor(async () => (await h.runtime.services.ports.redis.pubsub('NUMSUB', 'vigil:incidents'))[1] !== 0, 10_000, () => 'no subscriber');
      await send(other.stream.topic, [{ at: 0, value: 5000 }]);
      await send(stream.topic, [{ at: 0, value: 5000 }]);
      await anomaliesRecorded(stream.id, 1);
      await send(stream.topic, [{ at: 1, value: 5000 }]);
      await done;
      expect(seen.every((u) => u.stream.id === stream.id)).toBe(true);
      expect(seen.at(-1)).toMatchObject({ status: 'OPEN', anomalyCount: 2 });
    } finally {
      await client.dispose();
    }
  });
});
