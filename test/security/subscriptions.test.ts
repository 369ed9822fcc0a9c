import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS } from '../../src/pubsub/pubsub.ts';
import { registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';
import { publishUntilHeard } from '../support/resume.ts';
import { expectStillResponsive } from './probe.ts';
import { RawGraphqlWs } from './ws-socket.ts';
import { sendOversizedSubscription } from './oversized-ws-message.ts';

/**
 * The graphql-ws and SSE edges: authentication when a socket opens, caps on
 * sockets and subscriptions, oversized and malformed messages, revoked keys
 * with no events flowing, and stream health computed once for all subscribers.
 */
let h: Harness;
const MAX_SUBSCRIPTIONS = 25;

beforeAll(async () => {
  h = await startHarness({
    env: { VIGIL_WS_MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS), VIGIL_WS_MAX_SOCKETS_PER_KEY: '2', VIGIL_KEY_RECHECK_MS: '200' },
  });
});
afterAll(async () => {
  await h?.close();
});

const sockets: RawGraphqlWs[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
async function connect(secret?: string): Promise<RawGraphqlWs> {
  const socket = await RawGraphqlWs.connect(h.wsUrl, secret ? `Bearer ${secret}` : undefined);
  sockets.push(socket);
  return socket;
}

const ANOMALIES = 'subscription { anomalies { id } }';

describe('opening a socket', () => {
  it('closes a socket without a key with 4403 and the reason, before any subscription', async () => {
    const socket = await connect();
    expect(socket.acknowledged).toBe(false);
    expect(socket.closed).toEqual({ code: 4403, reason: expect.stringMatching(/API key is required/) });
  });

  it('limits the sockets one key may hold', async () => {
    const { secret } = await h.createKey('VIEWER');
    const [first, second] = [await connect(secret), await connect(secret)];
    expect(first.acknowledged && second.acknowledged).toBe(true);
    const third = await connect(secret);
    expect(third.closed).toEqual({ code: 1008, reason: expect.stringMatching(/VIGIL_WS_MAX_SOCKETS_PER_KEY/) });
  });
});

describe('messages on an open socket', () => {
  it('closes the socket on a message over VIGIL_MAX_REQUEST_BYTES (30 MB), and the service stays responsive', async () => {
    // Sent from a process of its own, so that only the service's work is in this process when it is timed.
    expect(await sendOversizedSubscription(h.wsUrl, `Bearer ${h.secrets.VIEWER}`, ANOMALIES, 30)).toBe(1009);
    await expectStillResponsive(h);
  });

  it.each([
    ['a syntax error', 'subscription { anomalies { id }'],
    ['a 3,000-deep query', `subscription ${'{ anomalies '.repeat(3000)}${'}'.repeat(3000)}`],
    ['an unknown field', 'subscription { anomaliez { id } }'],
  ])('answers %s with an error on that operation and keeps the socket', async (_label, query) => {
    const socket = await connect(h.secrets.VIEWER);
    socket.subscribe('bad', query);
    await socket.until(() => socket.messagesFor('bad').length > 0 || socket.closed !== undefined);
    const [answer] = socket.messagesFor('bad');
    expect(answer?.type).toBe('error');
    expect(JSON.stringify(answer?.payload)).toContain('BAD_USER_INPUT');
    expect(await socket.stillServes()).toBe(true);
    await expectStillResponsive(h);
  });

  it(`refuses subscription ${MAX_SUBSCRIPTIONS + 1} on one socket, keeping the others`, async () => {
    const socket = await connect(h.secrets.VIEWER);
    for (let i = 0; i < MAX_SUBSCRIPTIONS + 1; i++) socket.subscribe(`s${i}`, ANOMALIES);
    await socket.until(() => socket.messagesFor(`s${MAX_SUBSCRIPTIONS}`).length > 0);
    expect(socket.messagesFor(`s${MAX_SUBSCRIPTIONS}`)[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'RATE_LIMITED' } }] });
    expect(socket.messages.filter((m) => m.type === 'error')).toHaveLength(1);
    expect(await socket.stillServes()).toBe(true);
  });
});

describe('a revoked key', () => {
  it('loses its quiet graphql-ws socket within seconds, with no event flowing', async () => {
    const key = await h.createKey('VIEWER');
    const socket = await connect(key.secret);
    socket.subscribe('quiet', ANOMALIES);
    expect(await socket.stillServes()).toBe(true);
    await h.admin.request(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: key.id });
    await socket.until(() => socket.closed !== undefined);
    expect(socket.closed).toEqual({ code: 4403, reason: 'the API key was revoked' });
  });

  it('loses its quiet SSE subscription too', async () => {
    const key = await h.createKey('VIEWER');
    const client = createSseClient({ url: h.url, headers: { authorization: `Bearer ${key.secret}` }, retryAttempts: 0 });
    const ended = new Promise<unknown>((resolve) => {
      client.subscribe({ query: ANOMALIES }, { next: (result) => result.errors && resolve(result.errors), error: resolve, complete: () => resolve('complete') });
    });
    await h.admin.request(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: key.id });
    expect(JSON.stringify(await ended)).toMatch(/revoked/);
    client.dispose();
  });
});

describe('stream health', () => {
  it('is computed once per interval for all subscribers, not once per subscriber', async () => {
    const stream = await registerLatencyStream(h);
    const health = h.runtime.services.health;
    const original = health.stream.bind(health);
    let computations = 0;
    health.stream = (s) => ((computations += s.id === stream.id ? 1 : 0), original(s));
    try {
      const socket = await connect(h.secrets.VIEWER);
      const ids = Array.from({ length: 20 }, (_, i) => `h${i}`);
      for (const id of ids) socket.subscribe(id, `subscription($s: ID) { streamHealth(streamId: $s) { ingestionLag } }`, { s: stream.id });
      const started = Date.now();
      // Pushes repeat until every subscriber has one: no guessing when the subscriptions are live.
      const everyoneHeard = socket.until(() => ids.every((id) => socket.messagesFor(id).some((m) => m.type === 'next')), 30_000);
      await publishUntilHeard(h.runtime.services.pubsub, CHANNELS.streamHealth, [{ streamId: stream.id }], everyoneHeard);
      const intervals = Math.ceil((Date.now() - started) / 1000) + 1;
      expect(computations).toBeGreaterThan(0);
      expect(computations).toBeLessThanOrEqual(intervals);
      expect(computations).toBeLessThan(ids.length);
    } finally {
      health.stream = original;
    }
  });
});
