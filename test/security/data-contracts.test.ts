import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { deadLetterTopic } from '../../src/stream/topic-names.ts';
import type { Worker } from '../../src/stream/worker-options.ts';
import { TEST_KAFKA_BROKERS, uniqueName } from '../support/env.ts';
import { graphqlErrors, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';
import { expectStillResponsive } from './probe.ts';

/**
 * Data contracts that cannot stall the service: hostile schemas are refused
 * by the limits before ajv sees them, patterns run on RE2 (linear time), and
 * a poison event becomes a dead letter instead of blocking its partition.
 * Each probe is followed by one GET /healthz that must answer within 100 ms.
 */
const prefix = uniqueName('contracts');
let h: Harness;
let worker: Worker;
let producer: Producer;

beforeAll(async () => {
  h = await startHarness();
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group: `${prefix}-group` });
  producer = new Kafka({ brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect();
  await worker?.stop();
  await h?.close();
});

const PUBLISH = `mutation($s: ID!, $e: [JSON!]!) { publishEvents(streamId: $s, events: $e) { accepted rejected { index reason } } }`;
const CATASTROPHIC = '^(a+)+$';
// About 2^50 ways to split for a backtracking engine; one pass for RE2.
const HOSTILE = `${'a'.repeat(50)}!`;
// Far slower than any of these calls is now, far faster than before the limits (the 200k enum: about 2 minutes).
const PROMPT_MS = 5_000;

/** A stream schema: latency_ms to watch, plus `extra` properties. */
function schemaWith(extra: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', properties: { latency_ms: { type: 'number' }, ...extra } };
}

function register(schema: unknown) {
  const name = `${prefix}-${uniqueName('s')}`;
  return h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
    input: { name, topic: name, schema, valueFields: ['latency_ms'], partitions: 1 },
  });
}

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: performance.now() - started };
}

function deadLetters(streamId: string, count: number) {
  return waitFor(
    async () => {
      const rows = await h.runtime.services.ports.db.deadLetter.findMany({ where: { streamId }, orderBy: { offset: 'asc' } });
      return rows.length >= count ? rows : undefined;
    },
    60_000,
    () => `${count} dead letters did not appear for ${streamId}`,
  );
}

function nestedItems(levels: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'number' };
  for (let i = 0; i < levels; i++) schema = { type: 'array', items: schema };
  return schema;
}

describe('registerStream refuses hostile schemas before compiling them', () => {
  it.each([
    ['a 200k-entry enum', schemaWith({ host: { enum: Array.from({ length: 200_000 }, (_, i) => `h${i}`) } }), /\/properties\/host\/enum has 200000 entries; the limit is 1000 \(maxListEntries\)$/],
    ['a schema nested 40 deep', schemaWith({ deep: nestedItems(40) }), /\/properties\/deep(\/items){31} is nested 33 levels deep; the limit is 32 \(maxDepth\)$/],
    [
      'a 2 MB schema',
      schemaWith(Object.fromEntries(['a', 'b', 'c'].map((name) => [name, { type: 'string', description: name.repeat(700_000) }]))),
      /the schema serializes to more than 65536 bytes of JSON; the limit is 65536 \(maxBytes\)$/,
    ],
    [
      'a catastrophic pattern RE2 cannot run (a backreference)',
      schemaWith({ host: { type: 'string', pattern: '^(a+)+\\1$' } }),
      /\/properties\/host\/pattern "\^\(a\+\)\+\\\\1\$" is not a linear-time pattern: it must use RE2 syntax/,
    ],
    ['a remote $ref', schemaWith({ host: { $ref: 'https://example.com/huge.json' } }), /\/properties\/host\/\$ref "https:\/\/example.com\/huge.json" is not a local reference/],
  ])('%s: BAD_USER_INPUT naming input.schema, promptly, and /healthz at once after', async (_, schema, message) => {
    const { result: errors, ms } = await timed(() => graphqlErrors(register(schema)));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.schema' });
    expect(errors[0]!.message).toMatch(/^input\.schema: /);
    expect(errors[0]!.message).toMatch(message);
    expect(ms).toBeLessThan(PROMPT_MS);
    await expectStillResponsive(h);
  });
});

describe('a catastrophic pattern accepted because RE2 runs it in linear time', () => {
  const schema = schemaWith({ host: { type: 'string', pattern: CATASTROPHIC }, next: { $ref: '#' } });

  it('publishEvents refuses the hostile value promptly and keeps the valid one', async () => {
    const { registerStream: stream } = await register(schema);
    const operator = h.client(h.secrets.OPERATOR);
    const { result, ms } = await timed(() =>
      operator.request<{ publishEvents: unknown }>(PUBLISH, { s: stream.id, e: [{ host: HOSTILE, latency_ms: 1 }, { host: 'aaa', latency_ms: 2 }] }),
    );
    expect(result.publishEvents).toEqual({
      accepted: 1,
      rejected: [{ index: 0, reason: `violates the contract (schema v1): /host must match pattern "${CATASTROPHIC}"` }],
    });
    expect(ms).toBeLessThan(PROMPT_MS);
    await expectStillResponsive(h);
  });

  it('through Kafka the hostile value, and an event whose validation overflows the stack, become dead letters', async () => {
    const { registerStream: stream } = await register(schema);
    // Nested past the stack under the recursive `next`: ajv's validator throws rather than answers.
    const depth = 50_000;
    const tooDeep = `{"latency_ms":1,"next":${'{"next":'.repeat(depth)}{}${'}'.repeat(depth)}}`;
    await producer.send({
      topic: stream.topic,
      messages: [
        { key: 'k', value: JSON.stringify({ host: HOSTILE, latency_ms: 1 }) },
        { key: 'k', value: JSON.stringify({ host: 'aaa', latency_ms: 2 }) },
        { key: 'k', value: tooDeep },
      ],
    });
    const letters = await deadLetters(stream.id, 2);
    expect(letters.map((l) => [Number(l.offset), l.reason])).toEqual([
      [0, `contract violation (schema v1): /host must match pattern "${CATASTROPHIC}"`],
      [2, 'contract violation (schema v1): validation failed: Maximum call stack size exceeded'],
    ]);
    // The partition moved past both: nothing is stuck retrying them.
    await waitFor(
      async () => (await h.runtime.services.ports.db.consumerOffset.findFirst({ where: { topic: stream.topic } }))?.nextOffset === 3n,
      60_000,
      () => 'the partition did not commit past the poison events',
    );
    await expectStillResponsive(h);
  });
});

describe('a stored schema from before the limits', () => {
  it('is never compiled: its events are refused and dead-lettered saying why, and a schema update is the way out', async () => {
    const name = `${prefix}-${uniqueName('legacy')}`;
    const legacy = schemaWith({ host: { type: 'string', enum: Array.from({ length: 200_000 }, (_, i) => `h${i}`) } });
    const { db, kafka } = h.runtime.services.ports;
    // As registerStream did before the limits existed: straight into the registry.
    await kafka.ensureTopic(name, 1);
    await kafka.ensureTopic(deadLetterTopic(name), 1);
    const stream = await db.stream.create({
      data: { id: newId('Stream'), name, topic: name, valueFields: ['latency_ms'], partitions: 1, retentionDays: 1, schemas: { create: { version: 1, schema: legacy as object, createdBy: 'test' } } },
    });
    await h.runtime.services.registry.bump();
    const why = 'stream schema exceeds limits: /properties/host/enum has 200000 entries; the limit is 1000 (maxListEntries)';

    const { result, ms } = await timed(() =>
      h.client(h.secrets.OPERATOR).request<{ publishEvents: unknown }>(PUBLISH, { s: stream.id, e: [{ host: 'h1', latency_ms: 1 }] }),
    );
    expect(result.publishEvents).toEqual({ accepted: 0, rejected: [{ index: 0, reason: `violates the contract (schema v1): ${why}` }] });
    expect(ms).toBeLessThan(PROMPT_MS);
    await expectStillResponsive(h);

    await producer.send({ topic: name, messages: [{ key: 'k', value: JSON.stringify({ host: 'h1', latency_ms: 1 }) }] });
    const [letter] = await deadLetters(stream.id, 1);
    expect(letter!.reason).toBe(`contract violation (schema v1): ${why}`);

    // Every event of version 1 is refused already, so no compatibility check stands in the way.
    const { updateStreamSchema } = await h.admin.request<{ updateStreamSchema: { schemaVersion: number } }>(
      `mutation($id: ID!, $s: JSON!) { updateStreamSchema(id: $id, schema: $s) { schemaVersion } }`,
      { id: stream.id, s: schemaWith({ host: { type: 'string', pattern: '^h\\d+$' } }) },
    );
    expect(updateStreamSchema.schemaVersion).toBe(2);
    const { result: after } = await timed(() =>
      h.client(h.secrets.OPERATOR).request<{ publishEvents: unknown }>(PUBLISH, { s: stream.id, e: [{ host: 'h1', latency_ms: 1 }] }),
    );
    expect(after.publishEvents).toEqual({ accepted: 1, rejected: [] });
  });

  it('updateStreamSchema applies the same limits to the new schema', async () => {
    const { registerStream: stream } = await register(schemaWith({}));
    const errors = await graphqlErrors(
      h.admin.request(`mutation($id: ID!, $s: JSON!) { updateStreamSchema(id: $id, schema: $s) { schemaVersion } }`, {
        id: stream.id,
        s: schemaWith({ host: { enum: Array.from({ length: 5_000 }, (_, i) => i) } }),
      }),
    );
    expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'schema' });
    expect(errors[0]!.message).toBe('schema: exceeds the stream schema limits: /properties/host/enum has 5000 entries; the limit is 1000 (maxListEntries)');
    await expectStillResponsive(h);
  });
});
