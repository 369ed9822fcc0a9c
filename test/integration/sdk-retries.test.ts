import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLClient } from 'graphql-request';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigilClient, getSdk, vigilErrors } from '../../sdk/index.ts';
import { TEST_KAFKA_BROKERS } from '../support/env.ts';
import { registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';

/**
 * The typed SDK's retries against the real service, behind a proxy that
 * loses answers: it forwards a request, lets Vigil run it, and then drops the
 * connection instead of answering, as a timeout or a broken network would.
 * What was published is counted at the topic's end offsets.
 */
let h: Harness;
let stream: { id: string; topic: string };
let operatorSecret: string;
let proxy: LossyProxy;
const kafka = new Kafka({ clientId: 'vigil-sdk-retries-test', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const admin = kafka.admin();

interface LossyProxy {
  url: string;
  /** How many of the next answers to drop after the upstream has answered. */
  drop: number;
  /** Requests forwarded, and whether Vigil's answer to each said it replayed a kept one. */
  forwarded: { replayed: boolean }[];
  /** The Idempotency-Key each forwarded request carried. */
  keys: (string | undefined)[];
  server: Server;
}

async function startLossyProxy(upstream: string): Promise<LossyProxy> {
  const state = { drop: 0, forwarded: [] as { replayed: boolean }[], keys: [] as (string | undefined)[] };
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name))) as Record<string, string>;
    const answer = await fetch(upstream, { method: request.method, headers, body: Buffer.concat(chunks) });
    const body = Buffer.from(await answer.arrayBuffer());
    state.forwarded.push({ replayed: answer.headers.get('idempotent-replayed') === 'true' });
    state.keys.push(headers['idempotency-key']);
    if (state.drop > 0) {
      state.drop -= 1;
      request.socket.destroy();
      return;
    }
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, server });
  return proxied;
}

beforeAll(async () => {
  h = await startHarness();
  await admin.connect();
  stream = await registerLatencyStream(h);
  operatorSecret = (await h.createKey('OPERATOR')).secret;
  proxy = await startLossyProxy(h.url);
});
afterAll(async () => {
  await new Promise((resolve) => proxy?.server.close(resolve));
  await admin.disconnect();
  await h?.close();
});

const topicEnd = async () => (await admin.fetchTopicOffsets(stream.topic)).reduce((sum, p) => sum + Number(p.high), 0);
const events = (n: number) => Array.from({ length: n }, (_, i) => ({ host: `web-${i}`, latency_ms: 100 + i, errors: 0 }));
const noWait = { baseDelayMs: 1, sleep: async () => {} };

describe('createVigilClient with retries', () => {
  it('retries a publishEvents whose answer was lost, and the events are published once', async () => {
    const client = createVigilClient(proxy.url, operatorSecret, { retries: 3, ...noWait });
    const before = await topicEnd();
    proxy.forwarded = [];
    proxy.drop = 2;
    proxy.keys = [];
    const answer = await client.publishEvents({ streamId: stream.id, events: events(5) });
    expect(answer.publishEvents).toEqual({ accepted: 5, rejected: [] });
    expect(new Set(proxy.keys).size).toBe(1);
    expect(proxy.keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    // Three tries reached Vigil: the first ran, the next two were answered from it.
    expect(proxy.forwarded).toEqual([{ replayed: false }, { replayed: true }, { replayed: true }]);
    expect(await topicEnd()).toBe(before + 5);
  });

  it('(the same loss, retried without an Idempotency-Key, publishes the events twice: what the key prevents)', async () => {
    const plain = getSdk(new GraphQLClient(proxy.url, { headers: { authorization: `Bearer ${operatorSecret}` } }));
    const before = await topicEnd();
    proxy.drop = 1;
    await expect(plain.publishEvents({ streamId: stream.id, events: events(5) })).rejects.toThrow();
    await plain.publishEvents({ streamId: stream.id, events: events(5) });
    expect(await topicEnd()).toBe(before + 10);
  });

  it('sends a key passed per call with every try, so a retry from another process is answered from the first run', async () => {
    const key = `script-run-${Date.now()}`;
    const before = await topicEnd();
    proxy.forwarded = [];
    proxy.keys = [];
    proxy.drop = 2;
    // The script gives up (both answers lost), as one that crashed would; the first try ran.
    const crashed = createVigilClient(proxy.url, operatorSecret, { retries: 1, ...noWait });
    await expect(crashed.publishEvents({ streamId: stream.id, events: events(4) }, { 'Idempotency-Key': key })).rejects.toThrow();
    // Run again with the key it kept.
    const restarted = createVigilClient(proxy.url, operatorSecret, { retries: 3, ...noWait });
    const answer = await restarted.publishEvents({ streamId: stream.id, events: events(4) }, { 'Idempotency-Key': key });
    expect(answer.publishEvents).toEqual({ accepted: 4, rejected: [] });
    expect(proxy.keys).toEqual([key, key, key]);
    expect(proxy.forwarded).toEqual([{ replayed: false }, { replayed: true }, { replayed: true }]);
    expect(await topicEnd()).toBe(before + 4);
  });

  it('does not retry a refusal: it would only be refused again', async () => {
    const client = createVigilClient(proxy.url, operatorSecret, { retries: 3, ...noWait });
    proxy.forwarded = [];
    const refused = await client.publishEvents({ streamId: 'str_unknown', events: events(1) }).catch((error: unknown) => error);
    expect(vigilErrors(refused)).toMatchObject([{ code: 'NOT_FOUND' }]);
    expect(proxy.forwarded).toHaveLength(1);
  });

  it('gives up after its retries, with the last error', async () => {
    const client = createVigilClient(proxy.url, operatorSecret, { retries: 1, ...noWait });
    proxy.forwarded = [];
    proxy.drop = 2;
    await expect(client.publishEvents({ streamId: stream.id, events: events(1) })).rejects.toThrow(/fetch failed|socket|other side closed/i);
    expect(proxy.forwarded).toHaveLength(2);
  });
});
