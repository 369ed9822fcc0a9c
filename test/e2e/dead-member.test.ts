import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KAFKA_BROKERS, uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, startHarness, type Harness } from '../support/harness.ts';
import { spawnVigil, waitFor, type VigilProcess } from '../support/processes.ts';
import { committedEvents } from '../support/streams.ts';

/**
 * A worker SIGKILLed stays a member of its Kafka group, holding its
 * partitions, until its session times out. Here the session is 120 s: the
 * restarted worker commits again well within it only because it removes the
 * dead process's member (recorded in the state dir) before joining. Without
 * that, this test would wait out the 120 s and fail at 60.
 */
const prefix = uniqueName('deadmember');
const group = `${prefix}-group`;
const SESSION_TIMEOUT_MS = 120_000;
let h: Harness;
let topic: string;
const running: VigilProcess[] = [];
const kafka = new Kafka({ clientId: 'vigil-dead-member-test', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const admin = kafka.admin();

beforeAll(async () => {
  h = await startHarness();
  await admin.connect();
  const { registerStream } = await h.admin.request<{ registerStream: { topic: string } }>(REGISTER_STREAM, {
    input: { name: `${prefix}-s`, topic: `${prefix}-s`, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms'], partitions: 2 },
  });
  topic = registerStream.topic;
});
afterAll(async () => {
  for (const p of running) p.kill('SIGKILL');
  await admin.disconnect();
  await h?.close();
});

function startWorker(): VigilProcess {
  const vigil = spawnVigil(['worker', '--processes', '1'], {
    VIGIL_CONSUMER_GROUP: group,
    VIGIL_WORKER_STREAMS: `${prefix}-*`,
    VIGIL_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
    VIGIL_SELF_MONITOR_MS: '0',
  });
  running.push(vigil);
  return vigil;
}

/** Produces one event to each partition and waits until both are committed. */
async function commitsMarkers(vigil: VigilProcess): Promise<void> {
  const before = await committedEvents(h, group, topic);
  await h.runtime.services.ports.kafka.produce(topic, [0, 1].map((partition) => ({ key: null, partition, value: JSON.stringify({ host: 'marker', latency_ms: 1 }) })));
  await waitFor(
    async () => (await committedEvents(h, group, topic)) >= before + 2,
    60_000,
    () => `the markers were not committed:\n${vigil.output().slice(-3000)}`,
    50,
  );
}

async function groupMembers(): Promise<string[]> {
  const { groups } = await admin.describeGroups([kafkaGroupName()]);
  return groups[0]?.members.map((m) => m.memberId) ?? [];
}

/** The worker's Kafka group: the configured one, with its stream patterns (src/stream/worker-startup.ts). */
const kafkaGroupName = () => `${group}.streams(${prefix}-*)`;

describe('a worker restarted after SIGKILL', () => {
  it('removes the dead process from its Kafka group and commits again without waiting out its session', async () => {
    const first = startWorker();
    await commitsMarkers(first);
    const [deadMember] = await groupMembers();
    expect(deadMember).toBeDefined();
    first.kill('SIGKILL');
    await first.exited;
    // Kafka still counts the dead process as a member: only its session's end would remove it.
    expect(await groupMembers()).toEqual([deadMember]);

    const restartedAt = performance.now();
    const second = startWorker();
    await commitsMarkers(second);
    console.log(`restarted worker committed ${((performance.now() - restartedAt) / 1000).toFixed(1)} s after its spawn (session timeout ${SESSION_TIMEOUT_MS / 1000} s)`);
    expect(second.output()).toContain('removed the group members of processes that died');
    const members = await groupMembers();
    expect(members).toHaveLength(1);
    expect(members).not.toContain(deadMember);

    // Stopped cleanly, it leaves the group itself and leaves no record for a successor to act on.
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(await groupMembers()).toEqual([]);
  }, 180_000);
});
