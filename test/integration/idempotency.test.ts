import { randomUUID } from 'node:crypto';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigilClient } from '../../sdk/index.ts';
import { useIdempotency } from '../../src/gateway/idempotency-plugin.ts';
import { IDEMPOTENCY_TIMES, IdempotencyStore, requestFingerprint } from '../../src/gateway/idempotency-store.ts';
import { toClientError } from '../../src/schema/errors.ts';
import { TEST_KAFKA_BROKERS, uniqueName } from '../support/env.ts';
import { registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';

/**
 * Idempotency-Key on mutations, through the real gateway, Redis, PostgreSQL
 * and Kafka: a retried request runs once, and what it wrote is counted where
 * it was written (detector rows, audit entries, the topic's end offsets).
 */
let h: Harness;
let stream: { id: string; topic: string };
let operatorSecret: string;
const kafka = new Kafka({ clientId: 'vigil-idempotency-test', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const admin = kafka.admin();

beforeAll(async () => {
  h = await startHarness();
  await admin.connect();
  stream = await registerLatencyStream(h);
  operatorSecret = (await h.createKey('OPERATOR')).secret;
});
afterAll(async () => {
  await admin.disconnect();
  await h?.close();
});

interface Answer {
  status: number;
  replayed: string | null;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions: Record<string, unknown> }[]; extensions?: Record<string, unknown> };
}

/** One POST as any HTTP client sends it, so the test sees the status and headers too. */
async function post(secret: string, query: string, variables: Record<string, unknown>, idempotencyKey?: string): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${secret}` };
  if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
  const response = await fetch(h.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as Answer['body'] };
}

const REGISTER_DETECTOR = /* GraphQL */ `
  mutation ($input: RegisterDetectorInput!) { registerDetector(input: $input) { id name version } }
`;
const PUBLISH = /* GraphQL */ `
  mutation ($streamId: ID!, $events: [JSON!]!) { publishEvents(streamId: $streamId, events: $events) { accepted rejected { index reason } } }
`;

const detectorInput = (name: string) => ({ streamId: stream.id, name, field: 'latency_ms', kind: 'ZSCORE', params: { window: 50 } });
const detectorsNamed = (name: string) => h.runtime.services.ports.db.detector.count({ where: { name } });
const auditEntriesFor = (name: string) =>
  h.runtime.services.ports.db.auditEntry.count({ where: { action: 'registerDetector', detail: { path: ['args', 'name'], equals: name } } });
const topicEnd = async () => (await admin.fetchTopicOffsets(stream.topic)).reduce((sum, p) => sum + Number(p.high), 0);
const events = (n: number) => Array.from({ length: n }, (_, i) => ({ host: `web-${i}`, latency_ms: 100 + i, errors: 0 }));

describe('a mutation sent again with the same Idempotency-Key', () => {
  it('runs once: the retry gets the first answer, marked replayed, and nothing is written twice', async () => {
    const name = uniqueName('idem');
    const key = randomUUID();
    const first = await post(h.secrets.ADMIN, REGISTER_DETECTOR, { input: detectorInput(name) }, key);
    const again = await post(h.secrets.ADMIN, REGISTER_DETECTOR, { input: detectorInput(name) }, key);
    expect(first.body.errors).toBeUndefined();
    expect(first.replayed).toBeNull();
    expect(again).toMatchObject({ status: 200, replayed: 'true' });
    expect(again.body.data).toEqual(first.body.data);
    expect(again.body.extensions).toEqual({ idempotency: { replayed: true } });
    expect(await detectorsNamed(name)).toBe(1);
    expect(await auditEntriesFor(name)).toBe(1);
  });

  it('publishes the events of a retried publishEvents once (the typed SDK, with the header per call)', async () => {
    const sdk = createVigilClient(h.url, operatorSecret);
    const key = randomUUID();
    const before = await topicEnd();
    const first = await sdk.publishEvents({ streamId: stream.id, events: events(5) }, { 'Idempotency-Key': key });
    const again = await sdk.publishEvents({ streamId: stream.id, events: events(5) }, { 'Idempotency-Key': key });
    expect(first.publishEvents).toEqual({ accepted: 5, rejected: [] });
    expect(again).toEqual(first);
    expect(await topicEnd()).toBe(before + 5);
  });

  it('answers CONFLICT naming Idempotency-Key when the key comes with another request, and runs nothing', async () => {
    const key = randomUUID();
    const name = uniqueName('idem');
    await post(h.secrets.ADMIN, REGISTER_DETECTOR, { input: detectorInput(name) }, key);
    const other = uniqueName('idem');
    const reused = await post(h.secrets.ADMIN, REGISTER_DETECTOR, { input: detectorInput(other) }, key);
    expect(reused.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'Idempotency-Key' });
    expect(reused.body.errors?.[0]?.message).toMatch(/used for another request/);
    expect(await detectorsNamed(other)).toBe(0);
  });

  it('frees the key of a refusal: its retry is judged again, and a corrected request may take the key (nothing was written either time)', async () => {
    const key = randomUUID();
    const bad = { input: { ...detectorInput(uniqueName('idem')), params: { window: 0 } } };
    const first = await post(h.secrets.ADMIN, REGISTER_DETECTOR, bad, key);
    const again = await post(h.secrets.ADMIN, REGISTER_DETECTOR, bad, key);
    expect(first.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.params.window' });
    expect(again.replayed).toBeNull();
    expect(again.body.errors).toEqual(first.body.errors);
    expect(await detectorsNamed(bad.input.name)).toBe(0);
    // The key is free: the corrected request may take it.
    const fixed = await post(h.secrets.ADMIN, REGISTER_DETECTOR, { input: { ...bad.input, params: { window: 50 } } }, key);
    expect(fixed.body.errors).toBeUndefined();
    expect(await detectorsNamed(bad.input.name)).toBe(1);
  });

  it('refuses, and does not run, the retry of a request that never answered: it may have taken effect', async () => {
    const operator = await h.createKey('OPERATOR');
    const variables = { streamId: stream.id, events: events(3) };
    const key = randomUUID();
    // A gateway claimed this request three minutes ago and died before answering: its claim is all that is left.
    const prefix = h.runtime.services.ports.config.queuePrefix;
    const longAgo = new IdempotencyStore(h.runtime.services.ports.redis, prefix, IDEMPOTENCY_TIMES, () => Date.now() - 3 * 60_000);
    const slot = longAgo.slotOf(operator.id, key);
    expect(await longAgo.claim(slot, requestFingerprint(PUBLISH, undefined, variables))).toEqual({ kind: 'claimed' });
    const before = await topicEnd();
    const retry = await post(operator.secret, PUBLISH, variables, key);
    expect(retry.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'Idempotency-Key' });
    expect(retry.body.errors?.[0]?.message).toMatch(/never answered .* it may have taken effect\. Read the outcome with a query; to run it again, send a new key$/);
    expect(await topicEnd()).toBe(before);
    // The claim is kept as long as an answer would be (a day), not dropped after minutes.
    expect(await h.runtime.services.ports.redis.ttl(slot)).toBeGreaterThan(IDEMPOTENCY_TIMES.doneSeconds - 60);

    // A claim younger than that is a request still running: retry later.
    const recentKey = randomUUID();
    const now = new IdempotencyStore(h.runtime.services.ports.redis, prefix);
    await now.claim(now.slotOf(operator.id, recentKey), requestFingerprint(PUBLISH, undefined, variables));
    const early = await post(operator.secret, PUBLISH, variables, recentKey);
    expect(early.body.errors?.[0]?.message).toMatch(/still running/);
    expect(await topicEnd()).toBe(before);
  });

  it('stores nothing for a refused call: a VIEWER sending mutations with fresh keys leaves no record in Redis', async () => {
    const viewer = await h.createKey('VIEWER');
    const store = new IdempotencyStore(h.runtime.services.ports.redis, h.runtime.services.ports.config.queuePrefix);
    const keys = Array.from({ length: 5 }, () => randomUUID());
    for (const key of keys) {
      const refused = await post(viewer.secret, REGISTER_DETECTOR, { input: detectorInput(uniqueName('idem')) }, key);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    }
    const records = await Promise.all(keys.map((key) => h.runtime.services.ports.redis.exists(store.slotOf(viewer.id, key))));
    expect(records).toEqual([0, 0, 0, 0, 0]);
  });

  it('runs one of two identical requests sent at once; the other is told it is still running, or gets its answer', async () => {
    const key = randomUUID();
    const name = uniqueName('idem');
    const answers = await Promise.all([0, 1].map(() => post(h.secrets.ADMIN, REGISTER_DETECTOR, { input: detectorInput(name) }, key)));
    expect(await detectorsNamed(name)).toBe(1);
    const ran = answers.filter((a) => a.replayed === null && !a.body.errors);
    expect(ran).toHaveLength(1);
    const other = answers.find((a) => a !== ran[0])!;
    if (other.replayed) expect(other.body.data).toEqual(ran[0]!.body.data);
    else expect(other.body.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT', field: 'Idempotency-Key' }, message: expect.stringMatching(/still running/) });
  });

  it('never stores the secret createApiKey shows once: a retry is told the key was made, and Redis holds no copy', async () => {
    const key = randomUUID();
    const name = uniqueName('idem-key');
    const create = `mutation($name: String!) { createApiKey(name: $name, role: VIEWER) { secret apiKey { id } } }`;
    const first = await post(h.secrets.ADMIN, create, { name }, key);
    const again = await post(h.secrets.ADMIN, create, { name }, key);
    const secret = (first.body.data?.createApiKey as { secret: string }).secret;
    expect(secret.length).toBeGreaterThan(20);
    expect(again.body.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT', field: 'Idempotency-Key' }, message: expect.stringMatching(/held a secret/) });
    expect(JSON.stringify(again.body)).not.toContain(secret);
    expect(await h.runtime.services.ports.db.apiKey.count({ where: { name } })).toBe(1);
    const redis = h.runtime.services.ports.redis;
    const slots = await redis.keys(`${h.runtime.services.ports.config.queuePrefix}:idempotency:*`);
    expect(slots.length).toBeGreaterThan(0);
    for (const slot of slots) expect(await redis.get(slot)).not.toContain(secret);
  });

  it('keeps keys apart per API key: the same key from another API key runs its own request', async () => {
    const key = randomUUID();
    const before = await topicEnd();
    const asAdmin = await post(h.secrets.ADMIN, PUBLISH, { streamId: stream.id, events: events(2) }, key);
    const asOperator = await post(operatorSecret, PUBLISH, { streamId: stream.id, events: events(2) }, key);
    expect([asAdmin.replayed, asOperator.replayed]).toEqual([null, null]);
    expect(await topicEnd()).toBe(before + 4);
  });

  it('refuses a key that is not 1 to 255 visible characters with BAD_USER_INPUT, before running anything', async () => {
    const name = uniqueName('idem');
    const answer = await post(h.secrets.ADMIN, REGISTER_DETECTOR, { input: detectorInput(name) }, 'k'.repeat(256));
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'Idempotency-Key' });
    expect(await detectorsNamed(name)).toBe(0);
  });

  it('leaves queries and requests without the header as they are', async () => {
    const key = randomUUID();
    const query = `{ viewer { role } }`;
    const answers = [await post(h.secrets.ADMIN, query, {}, key), await post(h.secrets.ADMIN, query, {}, key)];
    expect(answers.map((a) => a.replayed)).toEqual([null, null]);
    const name = uniqueName('idem');
    await post(h.secrets.ADMIN, REGISTER_DETECTOR, { input: detectorInput(name) });
    const second = await post(h.secrets.ADMIN, REGISTER_DETECTOR, { input: detectorInput(name) });
    expect(second.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
  });
});

describe('over graphql-ws, with the key in the request extensions', () => {
  it('runs a retried publishEvents once, and marks the second answer replayed', async () => {
    const client = createWsClient({ url: h.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${operatorSecret}` }, retryAttempts: 0 });
    const run = (key: string) =>
      new Promise<{ data?: unknown; extensions?: Record<string, unknown> }>((resolve, reject) => {
        let result: { data?: unknown; extensions?: Record<string, unknown> } = {};
        client.subscribe(
          { query: PUBLISH, variables: { streamId: stream.id, events: events(3) }, extensions: { idempotencyKey: key } },
          { next: (value) => (result = value as typeof result), error: reject, complete: () => resolve(result) },
        );
      });
    try {
      const key = randomUUID();
      const before = await topicEnd();
      const first = await run(key);
      const again = await run(key);
      expect(first.data).toEqual({ publishEvents: { accepted: 3, rejected: [] } });
      expect(first.extensions).toBeUndefined();
      expect(again).toEqual({ data: first.data, extensions: { idempotency: { replayed: true } } });
      expect(await topicEnd()).toBe(before + 3);
    } finally {
      await client.dispose();
    }
  });
});

describe('a failure', () => {
  it('is kept like a success: after INTERNAL the effect may have happened, so the retry is answered, not run again (a small schema over the real Redis)', async () => {
    let runs = 0;
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: 'type Query { ok: Boolean } type Mutation { flaky: Int! }',
        resolvers: {
          Mutation: {
            flaky: () => {
              runs += 1;
              if (runs === 1) throw new Error('the connection dropped after the commit');
              return runs;
            },
          },
        },
      }),
      maskedErrors: { maskError: (error) => toClientError(error, pino({ level: 'silent' })) },
      logging: false,
      plugins: [useIdempotency(new IdempotencyStore(h.runtime.services.ports.redis, uniqueName('idem-prefix')), pino({ level: 'silent' }))],
      context: () => ({ principal: { keyId: 'key_test', name: 'test', role: 'ADMIN' } }),
    });
    const send = async (key: string) => {
      const response = await yoga.fetch('http://vigil.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ query: 'mutation { flaky }' }),
      });
      return { replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as { data: unknown; errors?: { extensions: { code: string } }[] } };
    };
    const first = await send('same-key');
    expect(first.body.errors?.[0]?.extensions.code).toBe('INTERNAL');
    const again = await send('same-key');
    expect(again.replayed).toBe('true');
    expect(again.body.errors).toEqual(first.body.errors);
    expect(runs).toBe(1);
    // Whoever knows the first did not take effect sends a new key.
    expect((await send('new-key')).body.data).toEqual({ flaky: 2 });
  });
});

describe('a Redis that accepts connections and never answers', () => {
  it('answers a mutation with a key INTERNAL after half a second, without running it, instead of waiting for ever', async () => {
    // A TCP server that takes connections and says nothing: ioredis connects and waits for ever.
    const sockets = new Set<Socket>();
    const silent = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const redis = new Redis({ port: (silent.address() as AddressInfo).port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: null });
    let runs = 0;
    const yoga = createYoga({
      schema: createSchema({ typeDefs: 'type Query { ok: Boolean } type Mutation { once: Int! }', resolvers: { Mutation: { once: () => ++runs } } }),
      maskedErrors: { maskError: (error) => toClientError(error, pino({ level: 'silent' })) },
      logging: false,
      plugins: [useIdempotency(new IdempotencyStore(redis, 'hung'), pino({ level: 'silent' }))],
      context: () => ({ principal: { keyId: 'key_test', name: 'test', role: 'ADMIN' } }),
    });
    try {
      // Without the bound on each Redis call, this request never answers and the test times out.
      const response = await yoga.fetch('http://vigil.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ query: 'mutation { once }' }),
      });
      const body = (await response.json()) as { errors?: { message: string; extensions: { code: string } }[] };
      expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'INTERNAL' }, message: expect.stringMatching(/could not be recorded/) });
      expect(runs).toBe(0);
    } finally {
      redis.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

