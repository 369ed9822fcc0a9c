import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';
import { committedEvents } from '../support/streams.ts';

const prefix = uniqueName('health');
const group = `${prefix}-group`;
let h: Harness;
let worker: Worker;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, statsIntervalMs: 200 });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

const HEALTH_FIELDS = 'ingestionLag eventsPerSecond errorRate deadLetters lastEventAt freshnessSeconds';

describe('stream health', () => {
  it('reports rates, errors, freshness and lag from the workers, and streams updates to subscribers', async () => {
    const name = `${prefix}-s`;
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
      input: { name, topic: name, schema: LATENCY_SCHEMA, valueFields: ['latency_ms'], partitions: 1 },
    });
    const subscriber = createClient({ url: h.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${h.secrets.VIEWER}` } });
    try {
      const update = new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no streamHealth update')), 30_000);
        subscriber.subscribe(
          { query: `subscription($s: ID) { streamHealth(streamId: $s) { stream { id } ${HEALTH_FIELDS} } }`, variables: { s: stream.id } },
          {
            next: (message) => {
              const health = (message.data as { streamHealth: Record<string, unknown> }).streamHealth;
              if ((health.eventsPerSecond as number) > 0) {
                clearTimeout(timer);
                resolve(health);
              }
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
      await waitFor(async () => (await h.runtime.services.ports.redis.pubsub('NUMSUB', 'vigil:stream-health'))[1] !== 0, 10_000, () => 'no subscriber');
      const good = Array.from({ length: 18 }, (_, i) => ({ key: 'h', value: JSON.stringify({ host: 'h', latency_ms: i }) }));
      await h.runtime.services.ports.kafka.produce(stream.topic, [...good, { key: 'h', value: 'not json' }, { key: 'h', value: '{}' }]);
      await waitFor(async () => (await committedEvents(h, group, stream.topic)) === 20, 30_000, () => 'events not consumed');

      const pushed = await update;
      expect(pushed.stream).toEqual({ id: stream.id });
      const { stream: read } = await h.client(h.secrets.VIEWER).request<{ stream: { health: Record<string, number | string | null> } }>(
        `query($id: ID) { stream(id: $id) { health { ${HEALTH_FIELDS} } } }`,
        { id: stream.id },
      );
      expect(read.health).toMatchObject({ ingestionLag: 0, deadLetters: 2, errorRate: 2 / 20 });
      expect(read.health.eventsPerSecond).toBeGreaterThan(0);
      expect(read.health.freshnessSeconds).toBeGreaterThanOrEqual(0);
      expect(read.health.freshnessSeconds).toBeLessThan(60);
      expect(Date.parse(read.health.lastEventAt as string)).toBeGreaterThan(Date.now() - 60_000);

      const { health } = await h.client(h.secrets.VIEWER).request<{ health: { status: string; components: { name: string; status: string }[] } }>(
        `{ health { status components { name status } } }`,
      );
      expect(health.components.map((c) => [c.name, c.status])).toEqual([
        ['PostgreSQL', 'OK'],
        ['Redis', 'OK'],
        ['Kafka', 'OK'],
        ['workers', 'OK'],
      ]);
    } finally {
      await subscriber.dispose();
    }
  });
});
