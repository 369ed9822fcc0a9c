import { Kafka, logLevel, Partitioners, type PartitionMetadata, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigilClient, type VigilClient } from '../../sdk/index.ts';
import { javaPartition } from '../../src/stream/murmur2.ts';
import { TEST_ADMIN_KEY, TEST_KAFKA_BROKERS, uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, startHarness, startTestWorker, type Harness, type TestWorker } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';
import { waitForCommitted } from '../support/streams.ts';

/**
 * A series must arrive on the partition Kafka's Java client picks for its
 * key. publishEvents does so; a producer with another partitioner (kafkajs'
 * LegacyPartitioner here, as kcat's default would) splits series, and the
 * worker says so: a counter in stream health and a note on the stream.
 */
const prefix = uniqueName('partitioning');
const group = `${prefix}-group`;
const PARTITIONS = 4;
const HOSTS = Array.from({ length: 12 }, (_, i) => `host-${i + 1}`);
let h: Harness;
let worker: TestWorker;
let sdk: VigilClient;
let legacyProducer: Producer;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, statsIntervalMs: 200 });
  sdk = createVigilClient(h.url, TEST_ADMIN_KEY);
  legacyProducer = new Kafka({ brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.LegacyPartitioner });
  await legacyProducer.connect();
});
afterAll(async () => {
  await legacyProducer?.disconnect();
  await worker?.stop();
  await h?.close();
});

const reading = (host: string) => ({ host, latency_ms: 100, at: new Date().toISOString() });

/** Where kafkajs' LegacyPartitioner puts a key on a topic of PARTITIONS partitions. */
function legacyPartition(key: string): number {
  const metadata: PartitionMetadata[] = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return Partitioners.LegacyPartitioner()({ topic: 't', partitionMetadata: metadata, message: { key, value: null } });
}

async function streamHealth(id: string) {
  const { stream } = await sdk.stream({ id });
  const { health } = await sdk.health();
  return { note: stream!.partitioningNote ?? null, health: health.streams.find((s) => s.stream.id === id)! };
}

describe('keys and partitions', () => {
  it('publishEvents places every series where the Java client would: nothing is counted; a LegacyPartitioner producer is counted and noted', async () => {
    const name = `${prefix}-lat`;
    const { registerStream: stream } = await sdk.registerStream({
      input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: PARTITIONS },
    });

    // publishEvents: each host's events on the partition the Java client picks for it. A key over
    // VIGIL_MAX_KEY_LENGTH (256) is refused there, not produced for the worker to dead-letter.
    const events = [...HOSTS.flatMap((host) => [reading(host), reading(host)]), reading('h'.repeat(257))];
    const { publishEvents: published } = await sdk.publishEvents({ streamId: stream.id, events });
    expect(published.rejected).toEqual([{ index: HOSTS.length * 2, reason: 'series key is 257 characters; the limit is 256 (VIGIL_MAX_KEY_LENGTH)' }]);
    expect(published.accepted).toBe(HOSTS.length * 2);
    await waitForCommitted(h, group, stream.topic, HOSTS.length * 2);
    const offsets = await h.runtime.services.ports.db.consumerOffset.findMany({ where: { groupId: group, topic: stream.topic } });
    const expectedCounts = new Map<number, number>();
    for (const host of HOSTS) expectedCounts.set(javaPartition(host, PARTITIONS), (expectedCounts.get(javaPartition(host, PARTITIONS)) ?? 0) + 2);
    expect(new Map(offsets.map((o) => [o.partition, Number(o.nextOffset)]))).toEqual(expectedCounts);
    // Stats of those events were flushed (events counted), and none of them was misrouted.
    const clean = await waitFor(async () => {
      const seen = await streamHealth(stream.id);
      return seen.health.eventsPerSecond > 0 ? seen : undefined;
    }, 30_000, () => 'the worker never reported the published events in stream health');
    expect(clean.health.misroutedEvents).toBe(0);
    expect(clean.note).toBeNull();

    // The wrong partitioner: the hosts it places elsewhere than the Java client are split series.
    const misplaced = HOSTS.filter((host) => legacyPartition(host) !== javaPartition(host, PARTITIONS));
    expect(misplaced.length, 'the LegacyPartitioner places some of these hosts elsewhere').toBeGreaterThan(0);
    await legacyProducer.send({ topic: stream.topic, messages: HOSTS.map((host) => ({ key: host, value: JSON.stringify(reading(host)) })) });
    await waitForCommitted(h, group, stream.topic, HOSTS.length * 3);

    const split = await waitFor(async () => {
      const seen = await streamHealth(stream.id);
      // The rate and the note are two reads of Redis in one request: a stats flush may land between them.
      return seen.health.misroutedEvents >= misplaced.length && seen.note?.includes(`${misplaced.length} event(s)`) ? seen : undefined;
    }, 30_000, () => `stream health never counted the ${misplaced.length} misrouted events`);
    expect(split.health.misroutedEvents).toBe(misplaced.length);
    expect(split.note).toContain(`${misplaced.length} event(s)`);
    expect(split.note).toMatch(/series "host-\d+" on partition \d, expected \d/);
    expect(split.note).toContain('murmur2');
  }, 120_000);
});
