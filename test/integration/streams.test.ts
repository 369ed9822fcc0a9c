import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { TEST_KAFKA_BROKERS, uniqueName } from '../support/env.ts';
import { graphqlErrors, LATENCY_SCHEMA, REGISTER_STREAM, registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';

let h: Harness;
const kafka = new Kafka({ clientId: 'vigil-test', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const admin = kafka.admin();

beforeAll(async () => {
  h = await startHarness();
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
  await h?.close();
});

const streamCount = (name: string) => h.runtime.services.ports.db.stream.count({ where: { name } });

function streamInput(overrides: Record<string, unknown> = {}) {
  const name = uniqueName('s');
  return { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms'], ...overrides };
}

describe('registerStream', () => {
  it('creates the stream and its topic (and dead-letter topic) on the real broker', async () => {
    const input = streamInput({ partitions: 4, timestampField: 'at' });
    const { registerStream } = await h.admin.request<{ registerStream: Record<string, unknown> }>(REGISTER_STREAM, { input });
    expect(registerStream).toMatchObject({
      name: input.name,
      topic: input.topic,
      schemaVersion: 1,
      partitions: 4,
      status: 'ACTIVE',
      keyField: 'host',
      timestampField: 'at',
      valueFields: ['latency_ms'],
      schema: LATENCY_SCHEMA,
    });
    const metadata = await admin.fetchTopicMetadata({ topics: [input.topic, `${input.topic}.dlq`] });
    expect(metadata.topics.find((t) => t.name === input.topic)?.partitions).toHaveLength(4);
    expect(metadata.topics.find((t) => t.name === `${input.topic}.dlq`)?.partitions).toHaveLength(1);
  });

  it.each([
    ['a schema that is not a JSON Schema', { schema: { type: 'object', properties: { x: { type: 'no-such-type' } } } }, 'input.schema'],
    ['a schema whose root is not an object', { schema: { type: 'number' } }, 'input.schema'],
    ['a value field missing from the schema', { valueFields: ['latency_ms', 'cpu'] }, 'input.valueFields[1]'],
    ['a value field that is not numeric', { valueFields: ['host'] }, 'input.valueFields[0]'],
    ['a key field missing from the schema', { keyField: 'region' }, 'input.keyField'],
    ['a timestamp field that is not a time', { timestampField: 'up', schema: { ...LATENCY_SCHEMA, properties: { ...LATENCY_SCHEMA.properties, up: { type: 'boolean' } } } }, 'input.timestampField'],
    ['no value fields', { valueFields: [] }, 'input.valueFields'],
    ['zero partitions', { partitions: 0 }, 'input.partitions'],
    ['an illegal topic name', { topic: 'has spaces' }, 'input.topic'],
    ['a reserved dead-letter topic name', { topic: 'x.dlq' }, 'input.topic'],
  ])('refuses %s with BAD_USER_INPUT naming the field, and writes nothing', async (_label, overrides, field) => {
    const input = streamInput(overrides);
    const [error] = await graphqlErrors(h.admin.request(REGISTER_STREAM, { input }));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await streamCount(input.name)).toBe(0);
    const topics = await admin.listTopics();
    expect(topics).not.toContain(input.topic);
  });

  it('refuses a duplicate name with CONFLICT', async () => {
    const stream = await registerLatencyStream(h);
    const [error] = await graphqlErrors(h.admin.request(REGISTER_STREAM, { input: streamInput({ name: stream.name }) }));
    expect(error?.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
  });

  it('refuses a topic that already belongs to another stream with CONFLICT', async () => {
    const stream = await registerLatencyStream(h);
    const [error] = await graphqlErrors(h.admin.request(REGISTER_STREAM, { input: streamInput({ topic: stream.topic }) }));
    expect(error?.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.topic' });
  });
});

const UPDATE_SCHEMA = /* GraphQL */ `
  mutation Update($id: ID!, $schema: JSON!) { updateStreamSchema(id: $id, schema: $schema) { id schemaVersion schema } }
`;

describe('updateStreamSchema', () => {
  it('accepts a backward-compatible schema, bumps the version and keeps the old one', async () => {
    const stream = await registerLatencyStream(h);
    const widened = { ...LATENCY_SCHEMA, properties: { ...LATENCY_SCHEMA.properties, region: { type: 'string' } } };
    const { updateStreamSchema } = await h.admin.request<{ updateStreamSchema: { schemaVersion: number; schema: unknown } }>(
      UPDATE_SCHEMA,
      { id: stream.id, schema: widened },
    );
    expect(updateStreamSchema).toEqual({ id: stream.id, schemaVersion: 2, schema: widened });
    const versions = await h.runtime.services.ports.db.streamSchemaVersion.findMany({ where: { streamId: stream.id }, orderBy: { version: 'asc' } });
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    expect(versions[0]?.schema).toEqual(LATENCY_SCHEMA);
  });

  it('refuses an incompatible schema saying what breaks, and keeps the version', async () => {
    const stream = await registerLatencyStream(h);
    const narrowed = { ...LATENCY_SCHEMA, required: [...LATENCY_SCHEMA.required, 'region'], properties: { ...LATENCY_SCHEMA.properties, region: { type: 'string' } } };
    const [error] = await graphqlErrors(h.admin.request(UPDATE_SCHEMA, { id: stream.id, schema: narrowed }));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'schema' });
    expect(error?.message).toContain('region');
    const row = await h.runtime.services.ports.db.stream.findUniqueOrThrow({ where: { id: stream.id } });
    expect(row.schemaVersion).toBe(1);
  });

  it('refuses a schema that drops a field the stream uses', async () => {
    const stream = await registerLatencyStream(h);
    const { latency_ms: _dropped, ...rest } = LATENCY_SCHEMA.properties;
    const [error] = await graphqlErrors(
      h.admin.request(UPDATE_SCHEMA, { id: stream.id, schema: { type: 'object', properties: rest, required: ['host'] } }),
    );
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'schema' });
    expect(error?.message).toContain('latency_ms');
  });

  it('answers NOT_FOUND for an unknown stream id', async () => {
    const [error] = await graphqlErrors(h.admin.request(UPDATE_SCHEMA, { id: 'str_unknown', schema: LATENCY_SCHEMA }));
    expect(error?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('pauseStream and resumeStream', () => {
  it('flip the status', async () => {
    const stream = await registerLatencyStream(h);
    const paused = await h.admin.request<{ pauseStream: { status: string } }>(`mutation($id: ID!) { pauseStream(id: $id) { status } }`, { id: stream.id });
    expect(paused.pauseStream.status).toBe('PAUSED');
    const resumed = await h.admin.request<{ resumeStream: { status: string } }>(`mutation($id: ID!) { resumeStream(id: $id) { status } }`, { id: stream.id });
    expect(resumed.resumeStream.status).toBe('ACTIVE');
  });
});

describe('queries', () => {
  it('find a stream by id, by name and as a node, and page through streams', async () => {
    const a = await registerLatencyStream(h);
    const b = await registerLatencyStream(h);
    const byName = await h.admin.request<{ stream: { id: string } }>(`query($n: String) { stream(name: $n) { id } }`, { n: b.name });
    expect(byName.stream.id).toBe(b.id);
    const node = await h.admin.request<{ node: { __typename: string; id: string; name: string } }>(
      `query($id: ID!) { node(id: $id) { __typename id ... on Stream { name } } }`,
      { id: a.id },
    );
    expect(node.node).toEqual({ __typename: 'Stream', id: a.id, name: a.name });

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const result: { streams: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
        await h.admin.request(`query($after: String) { streams(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, { after });
      seen.push(...result.streams.edges.map((e) => e.node.id));
      if (!result.streams.pageInfo.hasNextPage) break;
      after = result.streams.pageInfo.endCursor;
    }
    expect(seen).toContain(a.id);
    expect(seen).toContain(b.id);
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('a stream whose topic the broker does not have', () => {
  it('answers publishEvents with CONFLICT naming streamId, and health for every stream, without waiting on kafkajs retries', async () => {
    const name = uniqueName('topicless');
    // As a registry restored without its broker, or a topic deleted outside Vigil: the row, no topic.
    const { db } = h.runtime.services.ports;
    const stream = await db.stream.create({
      data: {
        id: newId('Stream'),
        name,
        topic: name,
        keyField: 'host',
        valueFields: ['latency_ms'],
        partitions: 1,
        retentionDays: 1,
        schemas: { create: { version: 1, schema: LATENCY_SCHEMA as object, createdBy: 'test' } },
      },
    });
    const [error] = await graphqlErrors(
      h.admin.request(`mutation($s: ID!, $e: [JSON!]!) { publishEvents(streamId: $s, events: $e) { accepted } }`, {
        s: stream.id,
        e: [{ host: 'web-1', latency_ms: 5 }],
      }),
    );
    expect(error?.extensions).toMatchObject({ code: 'CONFLICT', field: 'streamId' });
    expect(error?.message).toContain(`topic ${name} does not exist on the broker`);

    const { health } = await h.admin.request<{ health: { streams: { stream: { id: string }; ingestionLag: number }[] } }>(
      `{ health { streams { stream { id } ingestionLag } } }`,
    );
    expect(health.streams.find((s) => s.stream.id === stream.id)?.ingestionLag).toBe(0);
  });
});
