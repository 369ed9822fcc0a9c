import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { Anomaly } from '../../src/generated/prisma/client.ts';
import { TEST_KAFKA_BROKERS } from './env.ts';
import { waitFor } from './processes.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, type Harness } from './harness.ts';
import type { SeededEvent } from './seeded-events.ts';

export interface RegisteredStream {
  id: string;
  name: string;
  topic: string;
}

/** A latency stream with two detectors (ZSCORE and MAD) on latency_ms, one series per host. */
export async function registerStreamWithDetectors(h: Harness, name: string, partitions: number): Promise<RegisteredStream> {
  const { registerStream } = await h.admin.request<{ registerStream: RegisteredStream }>(REGISTER_STREAM, {
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions },
  });
  const register = `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`;
  await h.admin.request(register, {
    input: { streamId: registerStream.id, name: 'z', field: 'latency_ms', kind: 'ZSCORE', params: { window: 120, threshold: 5, warmup: 40 } },
  });
  await h.admin.request(register, {
    input: { streamId: registerStream.id, name: 'mad', field: 'latency_ms', kind: 'MAD', params: { window: 120, threshold: 6, warmup: 40 } },
  });
  return registerStream;
}

/** Produces the events, in order, keyed by host (so each host stays on one partition). */
export async function produceEvents(topics: string[], events: SeededEvent[]): Promise<void> {
  const producer = new Kafka({ brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for (let start = 0; start < events.length; start += 1000) {
      const messages = events.slice(start, start + 1000).map((e) => ({ key: e.key, value: JSON.stringify(e.value) }));
      for (const topic of topics) await producer.send({ topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Events of a topic whose effects are committed, summed over partitions (from the offsets of record). */
export async function committedEvents(h: Harness, group: string, topic: string): Promise<number> {
  const rows = await h.runtime.services.ports.db.consumerOffset.findMany({ where: { groupId: group, topic } });
  return rows.reduce((sum, row) => sum + Number(row.nextOffset), 0);
}

/** Resolves once the worker has committed `count` events of `topic` for `group` (in PostgreSQL, with their effects). */
export async function waitForCommitted(h: Harness, group: string, topic: string, count: number, timeoutMs = 60_000): Promise<void> {
  let committed = 0;
  await waitFor(
    async () => (committed = await committedEvents(h, group, topic)) === count,
    timeoutMs,
    () => `${committed} of ${count} events of ${topic} committed for ${group}`,
  );
}

/**
 * An anomaly as comparable across two streams fed the same events: which
 * detector (by name), which event, and what it said.
 */
export async function anomalyFingerprints(h: Harness, streamId: string): Promise<string[]> {
  const rows: (Anomaly & { detector: { name: string } })[] = await h.runtime.services.ports.db.anomaly.findMany({
    where: { streamId },
    include: { detector: { select: { name: true } } },
  });
  return rows
    .map((a) => `${a.detector.name} p${a.partition} o${a.offset} ${a.seriesKey} v=${a.value} s=${a.score.toFixed(9)} e=${a.expected?.toFixed(9)}`)
    .sort();
}
