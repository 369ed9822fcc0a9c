import { createClient, type Client } from 'graphql-ws';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { TEST_KAFKA_BROKERS, uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { CHANNELS } from '../../src/pubsub/pubsub.ts';
import { publishUntilHeard, unstoredAnomaly, type AnomalyTarget } from '../support/resume.ts';
import { waitForCommitted } from '../support/streams.ts';

const prefix = uniqueName('pipe');
const group = `${prefix}-group`;
let h: Harness;
let worker: Worker;
let producer: Producer;
let ws: Client;

beforeAll(async () => {
  h = await startHarness();
  // A small event limit, so an oversized event still fits under the broker's own message limit.
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, maxEventBytes: 64 * 1024 });
  producer = new Kafka({ brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  ws = createClient({ url: h.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${h.secrets.VIEWER}` } });
});
afterAll(async () => {
  await ws?.dispose();
  await producer?.disconnect();
  await worker?.stop();
  await h?.close();
});

async function registerStreamWithDetector(partitions: number) {
  const name = `${prefix}-${uniqueName('s')}`;
  const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions },
  });
  const { registerDetector: detector } = await h.admin.request<{ registerDetector: { id: string } }>(
    `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
    { input: { streamId: stream.id, name: 'latency-z', field: 'latency_ms', kind: 'ZSCORE', params: { window: 100, threshold: 6, warmup: 30 } } },
  );
  return { stream, detector };
}

/**
 * Subscribes to a stream's anomalies; resolves once the subscription is live (it heard a probe, an
 * announced anomaly that is in no table), with the first `count` real anomalies it delivers after.
 */
async function collectAnomalies(target: AnomalyTarget, count: number, timeoutMs = 60_000): Promise<{ arriving: Promise<Record<string, any>[]> }> {
  const probe = unstoredAnomaly(target, 999);
  let heardProbe!: () => void;
  const live = new Promise<void>((resolve) => (heardProbe = resolve));
  const arriving = new Promise<Record<string, any>[]>((resolve, reject) => {
    const received: Record<string, any>[] = [];
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`only ${received.length} of ${count} anomalies arrived within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = ws.subscribe(
      {
        query: `subscription($f: AnomalyFilter) { anomalies(filter: $f) {
          id value score seriesKey explanation traceId detector { id } source { topic partition offset key }
        } }`,
        variables: { f: { streamId: target.streamId } },
      },
      {
        next: (message) => {
          if (message.errors) return reject(new Error(JSON.stringify(message.errors)));
          const anomaly = (message.data as any).anomalies;
          if (anomaly.id === probe.id) return heardProbe();
          received.push(anomaly);
          if (received.length >= count) {
            clearTimeout(timer);
            unsubscribe();
            resolve(received);
          }
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
  await publishUntilHeard(h.runtime.services.pubsub, CHANNELS.anomalies, [probe], Promise.race([live, arriving]));
  return { arriving };
}

describe('the stream worker', () => {
  it('delivers an outlier to a graphql-ws subscriber with its source, and lineage agrees', async () => {
    const { stream, detector } = await registerStreamWithDetector(1);
    const { arriving } = await collectAnomalies({ streamId: stream.id, detectorId: detector.id, topic: stream.topic }, 1);
    const base = Date.parse('2026-11-30T10:00:00Z');
    const normal = Array.from({ length: 200 }, (_, i) => ({
      key: 'web-1',
      value: JSON.stringify({ host: 'web-1', latency_ms: 100 + ((i * 7) % 11) - 5, at: new Date(base + i * 1000).toISOString() }),
    }));
    await producer.send({ topic: stream.topic, messages: normal });
    const sent = await producer.send({
      topic: stream.topic,
      messages: [
        {
          key: 'web-1',
          value: JSON.stringify({ host: 'web-1', latency_ms: 900, at: new Date(base + 200_000).toISOString() }),
          headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
        },
      ],
    });
    const [anomaly] = await arriving;
    expect(anomaly).toMatchObject({
      value: 900,
      seriesKey: 'web-1',
      detector: { id: detector.id },
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      source: { topic: stream.topic, partition: sent[0]!.partition, offset: sent[0]!.baseOffset, key: 'web-1' },
    });
    expect(anomaly!.score).toBeGreaterThan(6);
    expect(anomaly!.explanation).toContain('latency_ms');

    const { lineage } = await h.client(h.secrets.VIEWER).request<{ lineage: any }>(
      `query($id: ID!) { lineage(anomalyId: $id) { event { topic partition offset key } schemaVersion detectorVersion { version kind } stream { id } anomaly { id } } }`,
      { id: anomaly!.id },
    );
    expect(lineage).toEqual({
      event: anomaly!.source,
      schemaVersion: 1,
      detectorVersion: { version: 1, kind: 'ZSCORE' },
      stream: { id: stream.id },
      anomaly: { id: anomaly!.id },
    });
    // Only the outlier: the normal events made no anomaly.
    const all = await h.runtime.services.ports.db.anomaly.count({ where: { streamId: stream.id } });
    expect(all).toBe(1);
  });

  it('dead-letters poison with a reason and scores every good event around it', async () => {
    const { stream } = await registerStreamWithDetector(1);
    const good = (i: number) => ({ key: 'h', value: JSON.stringify({ host: 'h', latency_ms: 50 + (i % 3) }) });
    const messages = [
      ...Array.from({ length: 40 }, (_, i) => good(i)),
      { key: 'h', value: '{"host": "h", "latency_ms": ' },
      good(40),
      { key: 'h', value: JSON.stringify({ host: 'h', latency_ms: 'slow' }) },
      good(41),
      { key: 'h', value: JSON.stringify({ host: 'h', latency_ms: 1, pad: 'x'.repeat(100 * 1024) }) },
      ...Array.from({ length: 20 }, (_, i) => good(42 + i)),
      { key: 'h', value: JSON.stringify({ host: 'h', latency_ms: 5000 }) },
    ];
    await producer.send({ topic: stream.topic, messages });
    await waitForCommitted(h, group, stream.topic, messages.length);
    const letters = await h.runtime.services.ports.db.deadLetter.findMany({ where: { streamId: stream.id }, orderBy: { offset: 'asc' } });
    expect(letters.map((l) => [Number(l.offset), l.reason.split(':')[0]])).toEqual([
      [40, 'malformed JSON'],
      [42, 'contract violation (schema v1)'],
      [44, 'oversized'],
    ]);
    expect(letters[1]!.reason).toContain('latency_ms');
    expect(letters[2]!.payload.length).toBeLessThanOrEqual(64 * 1024);
    // The last good event, after all the poison, was still scored: it is the outlier.
    const anomalies = await h.runtime.services.ports.db.anomaly.findMany({ where: { streamId: stream.id } });
    expect(anomalies.map((a) => [Number(a.offset), a.value])).toEqual([[messages.length - 1, 5000]]);
    const { deadLetters } = await h.client(h.secrets.VIEWER).request<{ deadLetters: { edges: { node: { reason: string } }[] } }>(
      `query($s: ID) { deadLetters(streamId: $s) { edges { node { reason source { offset } } } } }`,
      { s: stream.id },
    );
    expect(deadLetters.edges).toHaveLength(3);
  });

  it('dead-letters binary garbage with NUL bytes, which PostgreSQL text cannot hold, and keeps flowing', async () => {
    const { stream } = await registerStreamWithDetector(1);
    await producer.send({
      topic: stream.topic,
      messages: [
        { key: 'bin\u0000key', value: Buffer.from([0x00, 0xff, 0x7b, 0x00]) },
        { key: 'h', value: JSON.stringify({ host: 'h', latency_ms: 1 }) },
      ],
    });
    await waitForCommitted(h, group, stream.topic, 2);
    const [letter] = await h.runtime.services.ports.db.deadLetter.findMany({ where: { streamId: stream.id } });
    expect(letter?.reason).toMatch(/^malformed JSON/);
    expect(letter?.eventKey).toBe('bin\uFFFDkey');
    expect(letter?.payload).not.toContain('\u0000');
  });
});

describe('at the default event limit (1 MiB)', () => {
  it('a value over it reaches the worker, because the topic admits twice the limit, and becomes a dead letter; the partition flows on', async () => {
    const bigPrefix = uniqueName('pipebig');
    const bigWorker = await startTestWorker(h, { streams: [`${bigPrefix}*`], group: `${bigPrefix}-group` });
    try {
      expect(h.runtime.services.ports.config.maxEventBytes).toBe(1024 * 1024);
      const name = `${bigPrefix}-${uniqueName('s')}`;
      const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
        input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 1 },
      });
      const value = (latency: number, pad = '') => JSON.stringify({ host: 'h', latency_ms: latency, at: new Date().toISOString(), pad });
      const huge = value(1, 'x'.repeat(1536 * 1024));
      // One at a time: the broker's limit applies to a whole record batch.
      await producer.send({ topic: stream.topic, messages: [{ key: 'h', value: value(1) }] });
      await producer.send({ topic: stream.topic, messages: [{ key: 'h', value: huge }] });
      await producer.send({ topic: stream.topic, messages: [{ key: 'h', value: value(2) }] });
      await waitForCommitted(h, `${bigPrefix}-group`, stream.topic, 3);
      const letters = await h.runtime.services.ports.db.deadLetter.findMany({ where: { streamId: stream.id } });
      expect(letters.map((l) => [Number(l.offset), l.reason.split(':')[0]])).toEqual([[1, 'oversized']]);
      expect(letters[0]!.reason).toMatch(/1048576/);
      expect(letters[0]!.payload.length).toBeLessThanOrEqual(64 * 1024);
    } finally {
      await bigWorker.stop();
    }
  });
});

