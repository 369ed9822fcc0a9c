import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stream } from '../../src/generated/prisma/client.ts';
import { newId } from '../../src/core/ids.ts';
import { createServices } from '../../src/services/container.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { LATENCY_SCHEMA, openTestRuntime } from '../support/harness.ts';
import { uniqueName } from '../support/env.ts';
import { countingDb, type CountingDb } from '../support/statement-count.ts';

/**
 * The health of a page of streams (the console's streams page, `streams {
 * health }`) costs the same SQL statements for one stream as for four, and
 * each stream gets its own lag and dead letters. Real PostgreSQL, Kafka and
 * Redis; the statements are counted on the pg pool under a Prisma client of
 * this file's own.
 */
let runtime: Runtime;
let counted: CountingDb;
const streams: Stream[] = [];

beforeAll(async () => {
  runtime = await openTestRuntime();
  counted = countingDb();
  const { services } = runtime;
  for (let i = 0; i < 4; i++) {
    const name = uniqueName(`health-${i}`);
    streams.push(
      await services.streams.register({ name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 2 }, 'test'),
    );
  }
  // Stream 1: three events nobody has read. Stream 2: two dead letters waiting, one reprocessed.
  await services.ports.kafka.produce(streams[1]!.topic, [0, 1, 2].map((i) => ({ key: `h${i}`, value: JSON.stringify({ host: `h${i}`, latency_ms: 1, at: new Date().toISOString() }) })));
  await services.ports.db.deadLetter.createMany({
    data: [0, 1, 2].map((i) => ({
      id: newId('DeadLetter'),
      streamId: streams[2]!.id,
      topic: streams[2]!.topic,
      partition: 0,
      offset: BigInt(i),
      eventTimestamp: new Date(),
      reason: 'test',
      payload: '{}',
      reprocessedAt: i === 2 ? new Date() : null,
    })),
  });
});

afterAll(async () => {
  await counted?.close();
  await runtime?.close();
});

describe('stream health of a page of streams', () => {
  it('reads one stream or four in the same statements, each with its own lag and dead letters', async () => {
    const health = createServices({ ...runtime.services.ports, db: counted.db }).health;
    counted.reset();
    const [alone] = await health.streamsHealth([streams[1]!]);
    const one = counted.statements;
    counted.reset();
    const all = await health.streamsHealth(streams);
    expect(counted.statements).toBe(one);
    expect(alone).toMatchObject({ ingestionLag: 3, deadLetters: 0 });
    expect(all.map((h) => [h.stream.id, h.ingestionLag, h.deadLetters])).toEqual([
      [streams[0]!.id, 0, 0],
      [streams[1]!.id, 3, 0],
      [streams[2]!.id, 0, 2],
      [streams[3]!.id, 0, 0],
    ]);
    // One stream's view is the same read.
    expect(await health.stream(streams[2]!)).toMatchObject({ ingestionLag: 0, deadLetters: 2 });
  });
});
