import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_HEARTBEAT_PREFIX } from '../../src/stream/worker-heartbeat.ts';
import type { Worker } from '../../src/stream/worker-options.ts';
import { uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { freePort, waitFor } from '../support/processes.ts';

/**
 * Issue 13, "Redis is not on the detection path": a worker over a Redis of
 * this test's own keeps committing anomalies while that Redis hangs
 * (SIGSTOP) and while it is dead (SIGKILL), picks up a registry change made
 * meanwhile, and when Redis is back its heartbeat returns and the stream
 * counts it held arrive. The shared Redis is never touched.
 */

/** A redis-server child on a free port, without persistence. */
class OwnRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}):\n${output}`)));
    });
  }

  /** Stopped, not dead: connections stay open and commands wait for an answer that does not come. */
  hang(): void {
    this.child?.kill('SIGSTOP');
  }

  wake(): void {
    this.child?.kill('SIGCONT');
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await gone;
  }
}

let redis: OwnRedis;
let h: Harness;
const workers: Worker[] = [];

beforeAll(async () => {
  redis = await OwnRedis.start();
  h = await startHarness({ env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  redis?.wake();
  for (const worker of workers) await worker.stop();
  await h?.close();
  await redis?.kill();
});

const REGISTER_DETECTOR = `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`;

/** A stream with a THRESHOLD detector (max 1000) and a worker of its own. */
async function streamWithWorker(): Promise<{ produce(latencies: number[]): Promise<void>; anomaliesBy(detector: string): Promise<number[]>; id: string; worker: Worker }> {
  const name = uniqueName('redis-outage');
  const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms'], partitions: 1 },
  });
  await h.admin.request(REGISTER_DETECTOR, { input: { streamId: stream.id, name: 'ceiling', field: 'latency_ms', kind: 'THRESHOLD', params: { max: 1000 } } });
  const worker = await startTestWorker(h, { streams: [name], group: `${name}-group`, statsIntervalMs: 200 });
  workers.push(worker);
  const { db, kafka } = h.runtime.services.ports;
  return {
    id: stream.id,
    worker,
    produce: (latencies) => kafka.produce(stream.topic, latencies.map((latency_ms) => ({ key: 'h', value: JSON.stringify({ host: 'h', latency_ms }) }))),
    anomaliesBy: async (detector) =>
      (await db.anomaly.findMany({ where: { streamId: stream.id, detector: { name: detector } }, orderBy: { offset: 'asc' } })).map((a) => a.value),
  };
}

describe('a worker whose Redis fails', () => {
  it('holds no batch while Redis hangs: each anomaly is committed and the next batch follows', async () => {
    const s = await streamWithWorker();
    redis.hang();
    try {
      // One at a time: each batch's live push waits on the hung Redis, and the next batch must not.
      for (const [count, latency] of [[1, 5000], [2, 6000], [3, 7000]] as const) {
        await s.produce([latency]);
        await waitFor(async () => (await s.anomaliesBy('ceiling')).length === count, 15_000, () => `anomaly ${count} not committed while Redis hung`);
      }
    } finally {
      redis.wake();
    }
    expect(await s.anomaliesBy('ceiling')).toEqual([5000, 6000, 7000]);
  });

  it('keeps committing anomalies while Redis is dead, picks up a new detector, and catches up stats and heartbeat when it is back', async () => {
    const s = await streamWithWorker();
    await s.produce([10, 5000]);
    await waitFor(async () => (await s.anomaliesBy('ceiling')).length === 1, 30_000, () => 'no anomaly while Redis was up');

    await redis.kill();
    await s.produce([20, 6000]);
    await waitFor(async () => (await s.anomaliesBy('ceiling')).length === 2, 30_000, () => 'no anomaly committed while Redis was down');
    expect(await s.anomaliesBy('ceiling')).toEqual([5000, 6000]);

    // A registry change while Redis is down, through the API as an operator would make it.
    await h.admin.request(REGISTER_DETECTOR, { input: { streamId: s.id, name: 'floor', field: 'latency_ms', kind: 'THRESHOLD', params: { min: 0 } } });
    await s.produce([-5]);
    await waitFor(async () => (await s.anomaliesBy('floor')).length === 1, 30_000, () => 'the detector registered while Redis was down found nothing');
    expect(await s.anomaliesBy('floor')).toEqual([-5]);

    // Redis back, empty: the counts of the three events it missed were held, and the heartbeat returns.
    await redis.start();
    let counted = 0;
    await waitFor(
      async () => {
        const fields = await h.runtime.services.ports.redis.hgetall(`vigil:stream-stats:${s.id}`).catch(() => ({}) as Record<string, string>);
        counted = Object.entries(fields).reduce((sum, [field, value]) => (field.startsWith('e:') ? sum + Number(value) : sum), 0);
        return counted >= 3;
      },
      30_000,
      () => `stream stats after Redis came back: ${counted} events`,
    );
    await waitFor(
      async () => (await h.runtime.services.ports.redis.exists(`${WORKER_HEARTBEAT_PREFIX}${s.worker.id}`).catch(() => 0)) === 1,
      30_000,
      () => 'the worker heartbeat did not return',
    );
  }, 120_000);
});
