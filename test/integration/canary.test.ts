import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryKey, recordCanaryArrival, recordCanarySent } from '../../src/stream/canary.ts';
import type { Worker } from '../../src/stream/worker-options.ts';
import { sendCanaries } from '../../src/workflows/canary.ts';
import { uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';

/**
 * The synthetic canary end to end: one canary per partition travels Kafka,
 * the worker and the commit; its end-to-end time is StreamHealth's
 * canaryLatencySeconds and the vigil_canary_latency_seconds histogram, and it
 * never becomes an event, a dead letter, an anomaly or an incident.
 */
const prefix = uniqueName('canary');
const group = `${prefix}-group`;
let h: Harness;
const workers: Worker[] = [];

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
});
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await h?.close();
});

interface Health {
  canaryLatencySeconds: number | null;
  lastCanaryAt: string | null;
  deadLetters: number;
  lastEventAt: string | null;
  ingestionLag: number;
}

async function health(streamId: string): Promise<Health> {
  const { stream } = await h.client(h.secrets.VIEWER).request<{ stream: { health: Health } }>(
    `query($id: ID) { stream(id: $id) { health { canaryLatencySeconds lastCanaryAt deadLetters lastEventAt ingestionLag } } }`,
    { id: streamId },
  );
  return stream.health;
}

/** A latency stream whose THRESHOLD detector (max 0) would make an anomaly of any real value. */
async function strictStream(name: string, partitions: number): Promise<{ id: string; name: string; topic: string }> {
  const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; name: string; topic: string } }>(REGISTER_STREAM, {
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms'], partitions },
  });
  await h.admin.request(`mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`, {
    input: { streamId: stream.id, name: 'anything', field: 'latency_ms', kind: 'THRESHOLD', params: { max: 0 }, severity: 'CRITICAL' },
  });
  return stream;
}

async function committedByPartition(topic: string, consumerGroup = group): Promise<Record<number, bigint>> {
  const rows = await h.runtime.services.ports.db.consumerOffset.findMany({ where: { groupId: consumerGroup, topic } });
  return Object.fromEntries(rows.map((r) => [r.partition, r.nextOffset]));
}

async function metricsText(): Promise<string> {
  const response = await fetch(h.url.replace(/\/graphql$/, '/metrics'));
  expect(response.status).toBe(200);
  return response.text();
}

describe('synthetic canary', () => {
  it("reports the canary's latency, per partition, and never alerts", async () => {
    const stream = await strictStream(`${prefix}-a-strict`, 2);
    workers.push(await startTestWorker(h, { streams: [`${prefix}-a*`], group, statsIntervalMs: 200 }));
    expect(await health(stream.id)).toMatchObject({ canaryLatencySeconds: null, lastCanaryAt: null });

    const before = Date.now();
    const summary = await sendCanaries(h.runtime.services, h.runtime.services.ports.log, (name) => name === stream.name);
    expect(summary).toEqual({ streams: 1, canaries: 2, failed: 0 });

    // Within a bounded time: the canary of each partition is committed, and the round's latency is reported.
    const reported = await waitFor(
      async () => {
        const read = await health(stream.id);
        return read.canaryLatencySeconds !== null ? read : undefined;
      },
      30_000,
      () => 'the canary latency was never reported',
    );
    const elapsed = (Date.now() - before) / 1000;
    expect(reported.canaryLatencySeconds).toBeGreaterThanOrEqual(0);
    expect(reported.canaryLatencySeconds).toBeLessThanOrEqual(elapsed);
    expect(Date.parse(reported.lastCanaryAt!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(reported.lastCanaryAt!)).toBeLessThanOrEqual(Date.now());
    // One canary per partition, committed with its batch (before its arrival is recorded): each partition's offset moved by one.
    expect(await committedByPartition(stream.topic)).toEqual({ 0: 1n, 1: 1n });

    // The hash self-monitoring reads: integer epoch-ms / ms fields.
    const hash = await h.runtime.services.ports.redis.hgetall(canaryKey(stream.id));
    for (const field of ['sentAt', 'arrivedAt', 'latencyMs']) expect(hash[field]).toMatch(/^\d+$/);
    expect(Number(hash.arrivedAt)).toBeGreaterThanOrEqual(Number(hash.sentAt));
    expect(Number(hash.latencyMs)).toBe(Number(hash.arrivedAt) - Number(hash.sentAt));
    expect(reported.canaryLatencySeconds).toBe(Number(hash.latencyMs) / 1000);
    expect(Date.parse(reported.lastCanaryAt!)).toBe(Number(hash.arrivedAt));

    // The histogram, one observation per partition's canary.
    const count = (await metricsText())
      .split('\n')
      .find((line) => line.startsWith('vigil_canary_latency_seconds_count{') && line.includes(`stream="${stream.name}"`));
    expect(count, 'vigil_canary_latency_seconds_count for the stream').toBeDefined();
    expect(Number(count!.split(' ').pop())).toBe(2);

    // Never alerting users: no anomaly, dead letter or incident; not counted as an event (after a stats flush).
    await new Promise((resolve) => setTimeout(resolve, 600));
    const { db } = h.runtime.services.ports;
    expect(await db.anomaly.count({ where: { streamId: stream.id } })).toBe(0);
    expect(await db.deadLetter.count({ where: { streamId: stream.id } })).toBe(0);
    expect(await db.incident.count({ where: { streamId: stream.id } })).toBe(0);
    expect(await health(stream.id)).toMatchObject({ deadLetters: 0, lastEventAt: null, ingestionLag: 0 });

    // Whereas a real event is judged: the same path and detector make an anomaly of it.
    await h.runtime.services.ports.kafka.produce(stream.topic, [{ key: 'web-1', value: JSON.stringify({ host: 'web-1', latency_ms: 1 }) }]);
    await waitFor(async () => (await db.anomaly.count({ where: { streamId: stream.id } })) === 1, 30_000, () => 'the real event made no anomaly');
  });

  it('sends canaries on a schedule to the streams of the worker that scheduled them', async () => {
    const scheduledGroup = `${prefix}-b-group`;
    const stream = await strictStream(`${prefix}-b-scheduled`, 1);
    const outside = await strictStream(`${prefix}-c-outside`, 1);
    workers.push(await startTestWorker(h, { streams: [`${prefix}-b*`], group: scheduledGroup, workflows: { canaryMs: 300 } }));

    const first = await waitFor(async () => (await health(stream.id)).lastCanaryAt, 30_000, () => 'no scheduled canary arrived');
    const later = await waitFor(
      async () => {
        const at = (await health(stream.id)).lastCanaryAt;
        return at !== null && Date.parse(at) > Date.parse(first) ? at : undefined;
      },
      30_000,
      () => 'the next scheduled canary never arrived',
    );
    expect(Date.parse(later)).toBeGreaterThan(Date.parse(first));
    expect(Number((await committedByPartition(stream.topic, scheduledGroup))[0])).toBeGreaterThanOrEqual(2);
    // A stream outside the worker's patterns gets none.
    expect(await h.runtime.services.ports.redis.exists(canaryKey(outside.id))).toBe(0);
    expect(await h.runtime.services.ports.db.anomaly.count({ where: { streamId: stream.id } })).toBe(0);
  });

  it('a round is complete when every partition has answered; an unanswered round keeps its send time', async () => {
    const { redis } = h.runtime.services.ports;
    const id = `${prefix}-rounds`;
    const read = async () => redis.hgetall(canaryKey(id));
    try {
      await recordCanarySent(redis, id, 1_000, 2);
      expect(await recordCanaryArrival(redis, id, 0, 1_000, 1_100)).toBe(false);
      expect((await read()).arrivedAt).toBeUndefined();
      expect(await recordCanaryArrival(redis, id, 1, 1_000, 1_250)).toBe(true);
      expect(await read()).toMatchObject({ sentAt: '1000', arrivedAt: '1250', latencyMs: '250' });
      // A duplicate report changes nothing.
      expect(await recordCanaryArrival(redis, id, 1, 1_000, 1_900)).toBe(false);
      expect(await read()).toMatchObject({ arrivedAt: '1250', latencyMs: '250' });

      // Partition 1's canary of this round is lost: the round stays open across the next send...
      await recordCanarySent(redis, id, 2_000, 2);
      expect(await recordCanaryArrival(redis, id, 0, 2_000, 2_040)).toBe(false);
      await recordCanarySent(redis, id, 3_000, 2);
      expect((await read()).sentAt).toBe('2000');
      // ...until a newer canary has come through every partition.
      expect(await recordCanaryArrival(redis, id, 1, 3_000, 3_070)).toBe(true);
      expect(await read()).toMatchObject({ sentAt: '2000', arrivedAt: '3070', latencyMs: '70' });
      // A late canary of an older round neither completes nor moves anything back.
      expect(await recordCanaryArrival(redis, id, 0, 1_500, 3_100)).toBe(false);
      await recordCanarySent(redis, id, 4_000, 2);
      expect((await read()).sentAt).toBe('4000');
    } finally {
      await redis.del(canaryKey(id));
    }
  });
});
