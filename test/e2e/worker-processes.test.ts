import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_HEARTBEAT_PREFIX } from '../../src/stream/worker-heartbeat.ts';
import { uniqueName } from '../support/env.ts';
import { startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { spawnVigil, waitFor, type VigilProcess } from '../support/processes.ts';
import { seededLatencyEvents } from '../support/seeded-events.ts';
import { anomalyFingerprints, committedEvents, produceEvents, registerStreamWithDetectors } from '../support/streams.ts';

let h: Harness;
let supervisor: VigilProcess | undefined;
const childPids = new Set<number>();
/** The children's group, and the gateway's: the health page counts the workers of its own deployment. */
const group = uniqueName('procs-group');

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
});
afterAll(async () => {
  // A failed test must not leave workers behind in the shared consumer groups.
  supervisor?.kill('SIGKILL');
  for (const pid of childPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await h?.close();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The supervisor's log lines with this message (pino JSON; the children's lines are in the same output). */
function logLines(p: VigilProcess, message: string): Record<string, unknown>[] {
  return p
    .output()
    .split('\n')
    .filter((line) => line.includes(`"msg":"${message}"`))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** The pid of each slot's newest child. */
function childrenBySlot(p: VigilProcess): Map<number, number> {
  const children = new Map<number, number>();
  for (const line of logLines(p, 'worker process started')) {
    children.set(line.slot as number, line.workerPid as number);
    childPids.add(line.workerPid as number);
  }
  return children;
}

/** How many partitions the latest rebalance gave the child with this pid (-1 before its first). */
function lastAssignment(p: VigilProcess, pid: number): number {
  const mine = logLines(p, 'partitions assigned').filter((line) => line.pid === pid);
  return (mine.at(-1)?.assigned as number | undefined) ?? -1;
}

async function heartbeating(pid: number): Promise<boolean> {
  return (await h.runtime.services.ports.redis.exists(`${WORKER_HEARTBEAT_PREFIX}${hostname()}:${pid}`)) === 1;
}

async function workersAlive(): Promise<number> {
  const { health } = await h.client(h.secrets.VIEWER).request<{ health: { components: { name: string; detail: string | null }[] } }>(
    `{ health { components { name detail } } }`,
  );
  const detail = health.components.find((c) => c.name === 'workers')?.detail ?? '';
  return Number(/^(\d+) worker\(s\) alive$/.exec(detail)?.[1] ?? 0);
}

describe('vigil worker --processes 2', () => {
  it('runs two heartbeating children in one group, restarts one killed with SIGKILL, scores every event once, and stops both on SIGTERM', async () => {
    const id = uniqueName('procs');
    const shared = await registerStreamWithDetectors(h, `${id}-shared`, 4);
    const reference = await registerStreamWithDetectors(h, `${id}-reference`, 4);
    // Many hosts, so every one of the four partitions carries events.
    const events = seededLatencyEvents(4000, 23, 97, 40);
    const [firstHalf, secondHalf] = [events.slice(0, 2000), events.slice(2000)];
    await produceEvents([reference.topic], events);
    const referenceGroup = `${id}-reference-group`;
    const single = await startTestWorker(h, { streams: [reference.name], group: referenceGroup, checkpointEvents: 200 });
    await waitFor(async () => (await committedEvents(h, referenceGroup, reference.topic)) === events.length, 120_000, () => 'reference run did not finish');
    await single.stop();

    const p = spawnVigil(['worker', '--processes', '2'], {
      VIGIL_WORKER_STREAMS: shared.name,
      VIGIL_CONSUMER_GROUP: group,
      VIGIL_CHECKPOINT_EVENTS: '200',
      VIGIL_SESSION_TIMEOUT_MS: '6000',
    });
    supervisor = p;
    const tail = () => p.output().slice(-4000);

    // Two children, each heartbeating under its own pid, each owning some of the four partitions.
    const first = await waitFor(async () => (childrenBySlot(p).size === 2 ? childrenBySlot(p) : undefined), 30_000, tail);
    const [pidA, pidB] = [first.get(0)!, first.get(1)!];
    expect(pidA).not.toBe(pidB);
    expect([pidA, pidB]).not.toContain(p.child.pid);
    // Started with the worker's Node flags (worker-node-flags.ts).
    for (const pid of [pidA, pidB]) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--max-semi-space-size=64', '--no-allocation-site-pretenuring']));
    await waitFor(async () => (await heartbeating(pidA)) && (await heartbeating(pidB)), 60_000, tail);
    // Other test files may run workers too: at least these two.
    expect(await workersAlive()).toBeGreaterThanOrEqual(2);
    await waitFor(
      async () => lastAssignment(p, pidA) > 0 && lastAssignment(p, pidB) > 0 && lastAssignment(p, pidA) + lastAssignment(p, pidB) === 4,
      60_000,
      () => `the group did not split the partitions between the children:\n${tail()}`,
    );

    await produceEvents([shared.topic], firstHalf);
    await waitFor(async () => (await committedEvents(h, group, shared.topic)) === firstHalf.length, 120_000, () => `first half not processed:\n${tail()}`);

    // A child dies: the supervisor starts another in its slot, which heartbeats under a new pid.
    process.kill(pidA, 'SIGKILL');
    await produceEvents([shared.topic], secondHalf);
    const restarted = await waitFor(
      async () => {
        const now = childrenBySlot(p).get(0);
        return now !== undefined && now !== pidA ? now : undefined;
      },
      30_000,
      () => `slot 0 was not restarted:\n${tail()}`,
    );
    expect(logLines(p, 'worker process died; restarting it')).toEqual([expect.objectContaining({ slot: 0, workerPid: pidA, signal: 'SIGKILL', restartInMs: 1_000 })]);
    await waitFor(async () => await heartbeating(restarted), 60_000, () => `the restarted child does not heartbeat:\n${tail()}`);
    expect(alive(pidA)).toBe(false);
    expect(alive(pidB)).toBe(true);

    await waitFor(
      async () => (await committedEvents(h, group, shared.topic)) === events.length,
      120_000,
      () => `second half not processed after the restart:\n${tail()}`,
    );
    // Every event scored once: the same anomalies, at the same offsets, as one worker alone; none twice.
    const expected = await anomalyFingerprints(h, reference.id);
    expect(expected.length).toBeGreaterThanOrEqual(events.filter((e) => e.outlier).length);
    const actual = await anomalyFingerprints(h, shared.id);
    expect(new Set(actual).size).toBe(actual.length);
    expect(actual).toEqual(expected);

    // SIGTERM stops the children cleanly (each clears its heartbeat) and then the supervisor; none is restarted.
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    for (const pid of [restarted, pidB]) {
      expect(alive(pid), `child ${pid} outlived its supervisor`).toBe(false);
      expect(await heartbeating(pid)).toBe(false);
    }
    expect(logLines(p, 'worker process exited').map((line) => [line.workerPid, line.code])).toEqual(
      expect.arrayContaining([
        [restarted, 0],
        [pidB, 0],
      ]),
    );
    expect(logLines(p, 'worker process died; restarting it')).toHaveLength(1);
    expect(childrenBySlot(p).size).toBe(2);
    expect(logLines(p, 'worker process started')).toHaveLength(3);
  }, 300_000);
});
