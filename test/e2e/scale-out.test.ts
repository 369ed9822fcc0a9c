import { createClient } from 'graphql-ws';
import { GraphQLClient } from 'graphql-request';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_KEY, uniqueName } from '../support/env.ts';
import { startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { freePort, spawnVigil, waitFor, type VigilProcess } from '../support/processes.ts';
import { seededLatencyEvents } from '../support/seeded-events.ts';
import { anomalyFingerprints, committedEvents, produceEvents, registerStreamWithDetectors } from '../support/streams.ts';

let h: Harness;
const running: VigilProcess[] = [];
/** The worker processes' group, and the gateway's: stream health lists the workers of its own deployment. */
const group = uniqueName('scale-group');

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
});
afterAll(async () => {
  for (const p of running) p.kill('SIGKILL');
  await h?.close();
});

function spawnTracked(args: string[], env: Record<string, string>): VigilProcess {
  const p = spawnVigil(args, env);
  running.push(p);
  return p;
}

/** The partitions a worker process says it restored (pino JSON lines). */
function restoredPartitions(p: VigilProcess, topic: string): Set<number> {
  const found = new Set<number>();
  for (const line of p.output().split('\n')) {
    if (!line.includes('"partition restored"') || !line.includes(`"topic":"${topic}"`)) continue;
    const match = /"partition":(\d+)/.exec(line);
    if (match) found.add(Number(match[1]));
  }
  return found;
}

/** How many partitions the worker's latest rebalance gave it (-1 before its first). */
function lastAssignment(p: VigilProcess): number {
  const lines = p.output().split('\n').filter((line) => line.includes('"partitions assigned"'));
  const match = /"assigned":(\d+)/.exec(lines.at(-1) ?? '');
  return match ? Number(match[1]) : -1;
}

async function healthWorkers(streamId: string): Promise<{ id: string; pid: number; partitions: number[] }[]> {
  const { stream } = await h.client(h.secrets.VIEWER).request<{ stream: { health: { workers: { id: string; pid: number; partitions: number[] }[] } } }>(
    `query($id: ID) { stream(id: $id) { health { workers { id pid partitions lastBeatAt } } } }`,
    { id: streamId },
  );
  return stream.health.workers;
}

describe('two worker processes in one group', () => {
  it('share the partitions; stopping one hands its partitions and state to the other, with the same results', async () => {
    const id = uniqueName('scale');
    const shared = await registerStreamWithDetectors(h, `${id}-shared`, 4);
    const reference = await registerStreamWithDetectors(h, `${id}-reference`, 4);
    // Many hosts, so every one of the four partitions carries events.
    const events = seededLatencyEvents(8000, 11, 97, 40);
    const [firstHalf, secondHalf] = [events.slice(0, 4000), events.slice(4000)];
    await produceEvents([reference.topic], events);
    const referenceGroup = `${id}-reference-group`;
    const single = await startTestWorker(h, { streams: [reference.name], group: referenceGroup, checkpointEvents: 200 });
    await waitFor(async () => (await committedEvents(h, referenceGroup, reference.topic)) === events.length, 120_000, () => 'reference run did not finish');
    await single.stop();

    const env = { VIGIL_WORKER_STREAMS: shared.name, VIGIL_CONSUMER_GROUP: group, VIGIL_CHECKPOINT_EVENTS: '200', VIGIL_SESSION_TIMEOUT_MS: '6000' };
    const a = spawnTracked(['worker', '--processes', '1'], env);
    const b = spawnTracked(['worker', '--processes', '1'], env);
    await waitFor(
      async () => lastAssignment(a) > 0 && lastAssignment(b) > 0 && lastAssignment(a) + lastAssignment(b) === 4,
      60_000,
      () => `the group did not split the partitions:\nA: ${a.output().slice(-2000)}\nB: ${b.output().slice(-2000)}`,
    );
    await produceEvents([shared.topic], firstHalf);
    await waitFor(
      async () => (await committedEvents(h, group, shared.topic)) === firstHalf.length,
      120_000,
      () => `first half not processed:\nA: ${a.output().slice(-2000)}\nB: ${b.output().slice(-2000)}`,
    );
    const ownedByA = restoredPartitions(a, shared.topic);
    const ownedByB = restoredPartitions(b, shared.topic);
    // Both members worked: the group split the four partitions between them.
    expect(ownedByA.size).toBeGreaterThan(0);
    expect(ownedByB.size).toBeGreaterThan(0);
    // Stream health shows the two processes and what each holds, as the API reports it.
    const workers = await waitFor(async () => {
      const listed = await healthWorkers(shared.id);
      return listed.length === 2 ? listed : null;
    }, 20_000, () => 'stream health does not list the two worker processes');
    expect(workers.map((w) => w.pid).sort()).toEqual([a.child.pid, b.child.pid].sort());
    expect(workers.flatMap((w) => w.partitions).sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(workers.find((w) => w.pid === a.child.pid)!.partitions)).toEqual(ownedByA);

    a.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    await produceEvents([shared.topic], secondHalf);
    await waitFor(
      async () => (await committedEvents(h, group, shared.topic)) === events.length,
      120_000,
      () => `second half not processed by the remaining worker:\n${b.output().slice(-3000)}`,
    );
    // The survivor took over every partition the stopped worker had, and health says so.
    for (const partition of ownedByA) expect(restoredPartitions(b, shared.topic)).toContain(partition);
    let afterStop: unknown;
    await waitFor(async () => {
      const listed = await healthWorkers(shared.id);
      afterStop = listed;
      return listed.length === 1 && listed[0]!.pid === b.child.pid && listed[0]!.partitions.length === 4;
    }, 20_000, () => `stream health after A stopped: ${JSON.stringify(afterStop)}`);
    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);

    const expected = await anomalyFingerprints(h, reference.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(await anomalyFingerprints(h, shared.id)).toEqual(expected);
  }, 300_000);
});

describe('two gateway processes and a worker in a third', () => {
  it('deliver to a subscriber on one gateway the anomaly of events published through the other', async () => {
    const id = uniqueName('gw');
    const stream = await registerStreamWithDetectors(h, `${id}-stream`, 2);
    const [port1, port2] = [await freePort(), await freePort()];
    const gateway1 = spawnTracked(['gateway'], { PORT: String(port1) });
    const gateway2 = spawnTracked(['gateway'], { PORT: String(port2) });
    const worker = spawnTracked(['worker', '--processes', '1'], { VIGIL_WORKER_STREAMS: stream.name, VIGIL_CONSUMER_GROUP: `${id}-group` });
    for (const [gateway, port] of [[gateway1, port1], [gateway2, port2]] as const) {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
        60_000,
        () => `gateway on ${port} not ready:\n${gateway.output().slice(-2000)}`,
      );
    }
    await waitFor(async () => worker.output().includes('worker started'), 60_000, () => worker.output().slice(-2000));

    const subscriber = createClient({
      url: `ws://127.0.0.1:${port1}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${h.secrets.VIEWER}` },
    });
    try {
      const received = new Promise<{ value: number; seriesKey: string; source: { partition: number } }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no anomaly reached gateway 1:\nworker: ${worker.output().slice(-2000)}`)), 60_000);
        subscriber.subscribe(
          { query: `subscription($f: AnomalyFilter) { anomalies(filter: $f) { value seriesKey source { partition } } }`, variables: { f: { streamId: stream.id } } },
          {
            next: (message) => {
              clearTimeout(timer);
              if (message.errors) reject(new Error(JSON.stringify(message.errors)));
              else resolve((message.data as { anomalies: never }).anomalies);
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
      await new Promise((r) => setTimeout(r, 500));
      const publisher = new GraphQLClient(`http://127.0.0.1:${port2}/graphql`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
      const normal = Array.from({ length: 80 }, (_, i) => ({ host: 'api-1', latency_ms: 100 + (i % 5) }));
      const result = await publisher.request<{ publishEvents: { accepted: number; rejected: unknown[] } }>(
        `mutation($s: ID!, $e: [JSON!]!) { publishEvents(streamId: $s, events: $e) { accepted rejected { index reason } } }`,
        { s: stream.id, e: [...normal, { host: 'api-1', latency_ms: 4000 }] },
      );
      expect(result.publishEvents).toEqual({ accepted: 81, rejected: [] });
      const anomaly = await received;
      expect(anomaly).toMatchObject({ value: 4000, seriesKey: 'api-1' });
    } finally {
      await subscriber.dispose();
    }
  }, 180_000);
});
