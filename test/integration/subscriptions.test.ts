import type { ExecutionResult } from 'graphql';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newId } from '../../src/core/ids.ts';
import { CHANNELS } from '../../src/pubsub/pubsub.ts';
import { uniqueName } from '../support/env.ts';
import { registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';
import { anomalyRow, publishUntilHeard } from '../support/resume.ts';
import { Signal } from '../support/signal.ts';

/**
 * Live anomalies through real clients: graphql-ws over WebSocket and
 * graphql-sse over HTTP, fed by the real Redis pub/sub.
 */
let h: Harness;
/** Two real streams, each with a real detector: the subscriber resolves stream { name } and detector { name }. */
const fx = {} as {
  a: { streamId: string; streamName: string; detectorId: string; detectorName: string };
  b: { streamId: string; streamName: string; detectorId: string; detectorName: string };
};

async function streamWithDetector() {
  const stream = await registerLatencyStream(h);
  const detectorName = uniqueName('det');
  const { registerDetector } = await h.admin.request<{ registerDetector: { id: string } }>(
    `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
    { input: { streamId: stream.id, name: detectorName, field: 'latency_ms', kind: 'THRESHOLD', params: { max: 500 } } },
  );
  return { streamId: stream.id, streamName: stream.name, detectorId: registerDetector.id, detectorName };
}

beforeAll(async () => {
  h = await startHarness();
  [fx.a, fx.b] = await Promise.all([streamWithDetector(), streamWithDetector()]);
});

/** Clients opened by a test, disposed after it whatever happened. */
const open: { dispose(): unknown }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await h?.close();
});

/** An Anomaly row as the worker publishes it (the offset as a decimal string), for a row not in PostgreSQL. */
function anomalyPayload(target: { streamId: string; detectorId: string }, value: number) {
  const row = anomalyRow({ ...target, topic: 'some-topic' }, value);
  return { ...row, offset: '9007199254740993', incidentId: null, label: null, labelNote: null, labelledBy: null };
}

const SUBSCRIBE = /* GraphQL */ `
  subscription($filter: AnomalyFilter) {
    anomalies(filter: $filter) { id value severity stream { id name } detector { id name } source { offset } }
  }
`;

interface Received {
  id: string;
  value: number;
  severity: string;
  stream: { id: string; name: string };
  detector: { id: string; name: string };
  source: { offset: string };
}

type Sink = Parameters<WsClient['subscribe']>[1];

/** What one subscription hears: results (data or errors), a transport error, completion. */
class Subscription {
  readonly results: ExecutionResult<{ anomalies: Received }>[] = [];
  error: unknown;
  completed = false;
  private readonly changed = new Signal();
  readonly unsubscribe: () => void;

  constructor(client: WsClient | SseClient, variables: Record<string, unknown> = {}) {
    const sink: Sink = {
      next: (result) => this.push(() => this.results.push(result as ExecutionResult<{ anomalies: Received }>)),
      error: (error) => this.push(() => (this.error = error)),
      complete: () => this.push(() => (this.completed = true)),
    };
    this.unsubscribe = client.subscribe({ query: SUBSCRIBE, variables }, sink);
  }

  private push(change: () => void) {
    change();
    this.changed.notify();
  }

  get anomalies(): Received[] {
    return this.results.flatMap((r) => (r.data?.anomalies ? [r.data.anomalies] : []));
  }

  /** Resolves once `done` holds, or rejects after `ms`. */
  until(done: () => boolean, ms = 10_000): Promise<void> {
    return this.changed.until(done, ms, () => `heard ${JSON.stringify({ results: this.results, error: String(this.error), completed: this.completed })}`);
  }

  /** Publishes `payloads` in order, again every 100 ms, until an anomaly with id `expected` arrives: no guessing when the subscription is live. */
  async publishUntilReceived(expected: string, ...payloads: object[]): Promise<void> {
    const heard = this.until(() => this.anomalies.some((a) => a.id === expected) || this.error !== undefined || this.completed);
    await publishUntilHeard(h.runtime.services.pubsub, CHANNELS.anomalies, payloads, heard);
  }

  /** The errors of the first result, or of a transport error carrying GraphQL errors. */
  refusal(): { message: string; extensions?: Record<string, unknown> }[] {
    const fromResult = this.results.find((r) => r.errors?.length)?.errors;
    if (fromResult) return fromResult as never;
    if (Array.isArray(this.error)) return this.error as never;
    const nested = (this.error as { errors?: unknown } | undefined)?.errors;
    if (Array.isArray(nested)) return nested as never;
    return [];
  }
}

function wsClient(authorization?: string): WsClient {
  const client = createWsClient({
    url: h.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    ...(authorization === undefined ? {} : { connectionParams: { authorization } }),
  });
  open.push(client);
  return client;
}

function sseClient(authorization?: string): SseClient {
  const client = createSseClient({
    url: h.url,
    retryAttempts: 0,
    headers: authorization === undefined ? {} : { authorization },
  });
  open.push(client);
  return client;
}

const bearer = (secret: string) => `Bearer ${secret}`;

describe('anomalies over graphql-ws', () => {
  it('accepts a VIEWER key in connectionParams and delivers an anomaly published on Redis, resolved against the database', async () => {
    const subscription = new Subscription(wsClient(bearer(h.secrets.VIEWER)), { filter: { streamId: fx.a.streamId } });
    const payload = anomalyPayload(fx.a, 912);
    await subscription.publishUntilReceived(payload.id, payload);

    expect(subscription.error).toBeUndefined();
    expect(subscription.results.every((r) => r.errors === undefined)).toBe(true);
    expect(subscription.anomalies[0]).toEqual({
      id: payload.id,
      value: 912,
      severity: 'CRITICAL',
      stream: { id: fx.a.streamId, name: fx.a.streamName },
      detector: { id: fx.a.detectorId, name: fx.a.detectorName },
      source: { offset: '9007199254740993' },
    });
  });

  it("does not deliver an anomaly of another stream than the filter's", async () => {
    const subscription = new Subscription(wsClient(bearer(h.secrets.VIEWER)), { filter: { streamId: fx.a.streamId } });
    const first = anomalyPayload(fx.a, 750);
    await subscription.publishUntilReceived(first.id, first);

    // Live now. The other stream's anomaly goes first on the same Redis connection, and the gateway handles
    // messages in order: had the filter let it through, it would be heard before the wanted one.
    const other = anomalyPayload(fx.b, 700);
    const wanted = anomalyPayload(fx.a, 800);
    await subscription.publishUntilReceived(wanted.id, other, wanted);

    expect(subscription.anomalies.map((a) => a.id)).toContain(wanted.id);
    expect(subscription.anomalies.map((a) => a.stream.id)).not.toContain(fx.b.streamId);
    expect(subscription.anomalies.every((a) => a.id === first.id || a.id === wanted.id)).toBe(true);
  });

  it('delivers anomalies of every stream without a filter (the filter above is what kept the other one out)', async () => {
    const subscription = new Subscription(wsClient(bearer(h.secrets.VIEWER)));
    const other = anomalyPayload(fx.b, 650);
    await subscription.publishUntilReceived(other.id, other);
    expect(subscription.anomalies.map((a) => a.id)).toContain(other.id);
  });

  // A socket is authenticated when it opens: without a valid key it is closed with 4403 and the reason.
  it('closes a socket without connectionParams with 4403, saying a key is required', async () => {
    const subscription = new Subscription(wsClient());
    await subscription.until(() => subscription.completed || subscription.error !== undefined);
    expect(subscription.error).toMatchObject({ code: 4403, reason: expect.stringMatching(/API key is required/) });
    expect(subscription.anomalies).toEqual([]);
  });

  it('closes a socket with a wrong key with 4403, saying the key is unknown', async () => {
    const subscription = new Subscription(wsClient(bearer(`vgl_${uniqueName('wrong')}`)));
    await subscription.until(() => subscription.completed || subscription.error !== undefined);
    expect(subscription.error).toMatchObject({ code: 4403, reason: expect.stringMatching(/unknown or revoked/) });
    expect(subscription.anomalies).toEqual([]);
  });
});

describe('anomalies over SSE (graphql-sse)', () => {
  it('accepts a VIEWER key in the Authorization header and delivers the anomaly', async () => {
    const subscription = new Subscription(sseClient(bearer(h.secrets.VIEWER)), { filter: { streamId: fx.a.streamId } });
    const payload = anomalyPayload(fx.a, 930);
    await subscription.publishUntilReceived(payload.id, payload);

    expect(subscription.error).toBeUndefined();
    expect(subscription.results.every((r) => r.errors === undefined)).toBe(true);
    expect(subscription.anomalies[0]).toEqual({
      id: payload.id,
      value: 930,
      severity: 'CRITICAL',
      stream: { id: fx.a.streamId, name: fx.a.streamName },
      detector: { id: fx.a.detectorId, name: fx.a.detectorName },
      source: { offset: '9007199254740993' },
    });

    // And filters as over WebSocket: the other stream's anomaly, published first, is not delivered.
    const other = anomalyPayload(fx.b, 720);
    const wanted = anomalyPayload(fx.a, 940);
    await subscription.publishUntilReceived(wanted.id, other, wanted);
    expect(subscription.anomalies.map((a) => a.stream.id)).not.toContain(fx.b.streamId);
    expect(subscription.anomalies.map((a) => a.id)).toContain(wanted.id);
  });

  it('refuses a subscription with a wrong key with UNAUTHENTICATED', async () => {
    const subscription = new Subscription(sseClient(bearer(`vgl_${uniqueName('wrong')}`)));
    await subscription.until(() => subscription.refusal().length > 0 || subscription.completed || subscription.error !== undefined);
    expect(subscription.refusal().map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(subscription.anomalies).toEqual([]);
  });

  it('refuses a subscription without a key with UNAUTHENTICATED', async () => {
    const subscription = new Subscription(sseClient());
    await subscription.until(() => subscription.refusal().length > 0 || subscription.completed || subscription.error !== undefined);
    expect(subscription.refusal().map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(subscription.anomalies).toEqual([]);
  });
});
