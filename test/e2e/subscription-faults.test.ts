import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RESUMABLE_ANOMALIES, subscribeResumable, type AnomalyPush, type ResumableSubscription } from '../../sdk/index.ts';
import { startGateway, type Gateway } from '../../src/gateway/server.ts';
import { uniqueName } from '../support/env.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { anomalyRow, anomalyTarget, Collector, commitAnomaly, producer, subscriptionClient } from '../support/resume.ts';
import { Signal } from '../support/signal.ts';

/**
 * Faults around live pushes: the gateway a subscriber is connected to
 * restarts (the SDK reconnects by itself, through refused connections, and
 * resumes after its last cursor), and a push Redis never carried.
 */
let h: Harness;
const gateways: Gateway[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  // The harness's own gateway was closed by the test: close the rest of it.
  await h?.runtime.close();
});

/** What an SDK subscription received, with a wait on its arrivals. */
function sdkSubscriber(options: { filter?: Record<string, unknown>; apiKey?: string }) {
  const received: AnomalyPush[] = [];
  const arrivals = new Signal();
  let ended: { error: unknown } | undefined;
  const subscription: ResumableSubscription = subscribeResumable<AnomalyPush>({
    url: h.wsUrl,
    apiKey: options.apiKey ?? h.secrets.VIEWER,
    query: RESUMABLE_ANOMALIES,
    variables: { filter: options.filter },
    webSocketImpl: WebSocket,
    // Fast retries keep the test short; the refused connections still happen, dozens of them.
    retryDelayMs: () => 50,
    onItem: (item) => {
      received.push(item);
      arrivals.notify();
    },
    onEnd: (error) => {
      ended = { error };
      arrivals.notify();
    },
  });
  const until = (done: () => boolean, what: string, ms = 30_000) =>
    arrivals.until(done, ms, () => `${what}: ${received.length} items, ended: ${JSON.stringify(ended)}`);
  return { subscription, received, ids: () => received.map((item) => item.id), until, ended: () => ended };
}

describe('the SDK across a gateway restart', () => {
  it('reconnects by itself and receives what was committed while the gateway was down, then live ones, each once in order', async () => {
    const target = await anomalyTarget(h);
    const subscriber = sdkSubscriber({ filter: { streamId: target.streamId } });
    try {
      const warmUp = producer(() => commitAnomaly(h, target));
      await subscriber.until(() => subscriber.received.length > 0, 'the first anomaly').finally(() => warmUp.stop());
      const first = subscriber.ids()[0]!;
      const beforeRestart = [first, ...warmUp.committed.slice(warmUp.committed.indexOf(first) + 1)];
      await subscriber.until(() => beforeRestart.every((id) => subscriber.ids().includes(id)), 'the warm-up');

      const port = h.gateway.port;
      await h.gateway.close();
      const whileDown: string[] = [];
      for (let i = 0; i < 30; i++) whileDown.push(await commitAnomaly(h, target, 600 + i));
      gateways.push(await startGateway(h.runtime.services, h.runtime.services.ports.log, port));

      await subscriber.until(() => whileDown.every((id) => subscriber.ids().includes(id)), 'the anomalies committed while down');
      const afterRestart: string[] = [];
      for (let i = 0; i < 10; i++) afterRestart.push(await commitAnomaly(h, target, 700 + i));
      await subscriber.until(() => afterRestart.every((id) => subscriber.ids().includes(id)), 'live anomalies after the restart');

      expect(subscriber.ids()).toEqual([...beforeRestart, ...whileDown, ...afterRestart]);
      expect(subscriber.subscription.cursor).toBe(subscriber.received.at(-1)!.cursor);
      expect(subscriber.ended()).toBeUndefined();
    } finally {
      await subscriber.subscription.dispose();
    }
  });

  it('stops, rather than retrying for ever, when the gateway refuses the key (4403)', async () => {
    const subscriber = sdkSubscriber({ apiKey: `vgl_${uniqueName('wrong')}` });
    await subscriber.until(() => subscriber.ended() !== undefined, 'the refusal');
    expect(subscriber.ended()!.error).toMatchObject({ code: 4403 });
  });
});

describe('a push Redis never carried', () => {
  it('still reaches a live subscriber, read from PostgreSQL when nothing else rings', async () => {
    const target = await anomalyTarget(h);
    const client = subscriptionClient(h, 'graphql-ws', h.secrets.VIEWER);
    const live = new Collector(
      client,
      `subscription($filter: AnomalyFilter) { anomalies(filter: $filter) { id cursor } }`,
      { filter: { streamId: target.streamId } },
    );
    try {
      const warmUp = producer(() => commitAnomaly(h, target));
      await live.until(() => live.items.length > 0, 'the first anomaly').finally(() => warmUp.stop());
      // Committed, never published: the worker died between its commit and its announcement, or Redis lost the message.
      const silent = await h.runtime.services.ports.db.anomaly.create({ data: anomalyRow(target, 950) });
      await live.until(() => live.ids().includes(silent.id), 'the unannounced anomaly', 20_000);
      expect(live.ids().filter((id) => id === silent.id)).toHaveLength(1);
    } finally {
      await client.dispose();
    }
  });
});
