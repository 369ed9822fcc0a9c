import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SELF_STREAM_NAME } from '../../src/workflows/self-monitor.ts';
import { uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, startHarness, type Harness } from '../support/harness.ts';
import { spawnVigil, waitFor, type VigilProcess } from '../support/processes.ts';
import { committedEvents, produceEvents } from '../support/streams.ts';

/**
 * Vigil watching itself: a worker process for a user stream S, and a second
 * worker process for `vigil.self` only, whose sampler measures S's ingestion
 * lag. The two are in different Kafka consumer groups (kafkajs's assigner
 * ignores what each member subscribes to, so members of one group with
 * different VIGIL_WORKER_STREAMS would be handed each other's partitions and
 * drop them); the sampler measures lag against S's group
 * (VIGIL_SELF_MONITOR_GROUP). `vigil.self` is shared with anything else using
 * the test database: everything here is filtered by S's id.
 */
const id = uniqueName('selfmon');
const streamGroup = `${id}-group`;
const queuePrefix = `vigil-test-${id}`;
let h: Harness;
const running: VigilProcess[] = [];

beforeAll(async () => {
  h = await startHarness({ consumerGroup: streamGroup });
});
afterAll(async () => {
  for (const p of running) p.kill('SIGKILL');
  await h?.close();
});

function spawnTracked(env: Record<string, string>): VigilProcess {
  const p = spawnVigil(['worker', '--processes', '1'], { LOG_LEVEL: 'info', VIGIL_QUEUE_PREFIX: queuePrefix, VIGIL_SESSION_TIMEOUT_MS: '6000', ...env });
  running.push(p);
  return p;
}

interface IncidentRow {
  id: string;
  title: string;
  status: string;
  openedAt: Date;
  timeline: { kind: string; message: string }[];
}

/** Self-monitoring incidents about `streamId`, newest first. */
function selfIncidents(streamId: string): Promise<IncidentRow[]> {
  return h.runtime.services.ports.db.incident.findMany({
    where: { seriesKey: streamId, stream: { name: SELF_STREAM_NAME } },
    orderBy: { openedAt: 'desc' },
    include: { timeline: { orderBy: { id: 'asc' } } },
  });
}

/** S's worker has committed everything in S's topic (whatever else, e.g. canaries, is in it too). */
async function caughtUp(topic: string, atLeast: number): Promise<boolean> {
  const ends = await h.runtime.services.ports.kafka.endOffsets(topic);
  const end = [...ends.values()].reduce((sum, offset) => sum + Number(offset), 0);
  const committed = await committedEvents(h, streamGroup, topic);
  return end >= atLeast && committed === end;
}

let seq = 0;
function events(count: number, latency: (i: number) => number) {
  return Array.from({ length: count }, (_, i) => {
    const value = { host: 'api-1', latency_ms: latency(i), at: new Date(Date.now() + seq++).toISOString() };
    return { key: value.host, value, outlier: false };
  });
}

describe('self-monitoring', () => {
  it('opens an incident about a stream whose worker stopped, marks its business incidents input-suspect, and resolves once it catches up', async () => {
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; name: string; topic: string } }>(REGISTER_STREAM, {
      input: { name: `${id}-s`, topic: `${id}-s`, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 1 },
    });
    await h.admin.request(`mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`, {
      input: { streamId: stream.id, name: 'ceiling', field: 'latency_ms', kind: 'THRESHOLD', params: { max: 1000 }, severity: 'CRITICAL' },
    });

    const streamEnv = { VIGIL_WORKER_STREAMS: stream.name, VIGIL_CONSUMER_GROUP: streamGroup };
    const selfWorker = spawnTracked({
      VIGIL_WORKER_STREAMS: SELF_STREAM_NAME,
      VIGIL_CONSUMER_GROUP: `${id}-self-group`,
      VIGIL_SELF_MONITOR_GROUP: streamGroup,
      // Only S: other tests' streams have no offsets in S's group and would each raise an incident.
      VIGIL_SELF_MONITOR_STREAMS: stream.name,
      VIGIL_SELF_MONITOR_MS: '500',
      VIGIL_SELF_LAG_MAX: '50',
      VIGIL_SELF_QUIET_SECONDS: '3',
      VIGIL_INCIDENT_SWEEP_MS: '500',
    });
    let streamWorker = spawnTracked(streamEnv);
    const outputs = () =>
      `\n--- self worker:\n${selfWorker.output().slice(-3000)}\n--- stream worker:\n${streamWorker.output().slice(-3000)}`;
    for (const p of [selfWorker, streamWorker]) {
      await waitFor(async () => p.output().includes('worker started'), 60_000, () => `a worker did not start${outputs()}`);
    }

    // The internal stream and its detectors are visible in the API like any other. The workflows register them
    // beside the worker's start (not before it), one detector after another, so wait for all three.
    type SelfDetectors = { edges: { node: { name: string; incidentPolicy: { groupBy: string; quietPeriodSeconds: number } } }[] };
    let self: { id: string; topic: string; valueFields: string[] } | null = null;
    let detectors: SelfDetectors = { edges: [] };
    await waitFor(
      async () => {
        ({ stream: self } = await h.admin.request<{ stream: { id: string; topic: string; valueFields: string[] } | null }>(
          `query($name: String) { stream(name: $name) { id topic valueFields } }`,
          { name: SELF_STREAM_NAME },
        ));
        if (self === null) return false;
        ({ detectors } = await h.admin.request<{ detectors: SelfDetectors }>(
          `query($s: ID) { detectors(streamId: $s) { edges { node { name incidentPolicy { groupBy quietPeriodSeconds } } } } }`,
          { s: self.id },
        ));
        return detectors.edges.length >= 3;
      },
      30_000,
      () => `vigil.self and its three detectors not registered${outputs()}`,
    );
    expect(detectors.edges.map((e) => e.node.name).sort()).toEqual(['canary', 'errors', 'lag']);
    expect(detectors.edges.every((e) => e.node.incidentPolicy.groupBy === 'SERIES' && e.node.incidentPolicy.quietPeriodSeconds === 3)).toBe(true);

    // 1. Events flow and S's worker keeps up: samples arrive (the self topic's offsets move), no incident.
    await produceEvents([stream.topic], events(20, (i) => 100 + (i % 7)));
    await waitFor(() => caughtUp(stream.topic, 20), 60_000, () => `S's first events not processed${outputs()}`);
    const selfOffsets = () => committedEvents(h, `${id}-self-group`, self!.topic);
    const before = await selfOffsets();
    await waitFor(async () => (await selfOffsets()) >= before + 4, 30_000, () => `no self-monitoring samples processed${outputs()}`);
    expect(await selfIncidents(stream.id)).toEqual([]);

    // 2. S's worker stops while events keep arriving: its lag grows past 50 and a self-monitoring incident opens.
    streamWorker.kill('SIGTERM');
    expect(await streamWorker.exited).toBe(0);
    await produceEvents([stream.topic], events(200, (i) => 100 + (i % 7)));
    const opened = await waitFor(
      async () => (await selfIncidents(stream.id)).find((i) => i.status === 'OPEN'),
      30_000,
      () => `no self-monitoring incident opened for ${stream.id}${outputs()}`,
    );
    expect(opened.title).toContain(`"${stream.name}"`);
    expect(opened.title).toContain('ingestionLag');
    expect(opened.timeline[0]!.message).toMatch(/ingestionLag \d+ is above the maximum 50/);

    // 3. The backlog holds an outlier; the worker comes back and opens a business incident while the
    //    self-monitoring incident is still open (lag stays high until the backlog commits): input suspect.
    await produceEvents([stream.topic], [...events(1, () => 5000), ...events(5, () => 100)]);
    streamWorker = spawnTracked(streamEnv);
    const business = await waitFor(
      async () =>
        h.runtime.services.ports.db.incident.findFirst({
          where: { streamId: stream.id },
          include: { timeline: { orderBy: { id: 'asc' } } },
        }),
      60_000,
      () => `no business incident on S after the restart${outputs()}`,
    );
    const suspect = business.timeline.find((e) => e.kind === 'INPUT_SUSPECT');
    expect(suspect, `timeline: ${JSON.stringify(business.timeline.map((e) => [e.kind, e.message]))}`).toBeDefined();
    expect(suspect!.message).toContain('input suspect: the pipeline of this stream is degraded');
    expect(suspect!.message).toContain(opened.id);

    // 4. S's worker catches up: lag back to 0, and after the 3 s quiet period the incident resolves itself.
    await waitFor(() => caughtUp(stream.topic, 226), 60_000, () => `backlog not processed${outputs()}`);
    const resolved = await waitFor(
      async () => (await selfIncidents(stream.id)).find((i) => i.id === opened.id && i.status === 'RESOLVED'),
      30_000,
      () => `self-monitoring incident ${opened.id} did not resolve${outputs()}`,
    );
    expect(resolved.timeline.map((e) => e.kind)).toContain('AUTO_RESOLVED');
    // One incident for the whole outage (anomalies joined it), and none opened since.
    expect((await selfIncidents(stream.id)).map((i) => i.id)).toEqual([opened.id]);

    // The API shows it like any incident.
    const { incident } = await h.admin.request<{ incident: { status: string; stream: { name: string }; timeline: { kind: string }[] } }>(
      `query($id: ID!) { incident(id: $id) { status stream { name } timeline { kind } } }`,
      { id: opened.id },
    );
    expect(incident.status).toBe('RESOLVED');
    expect(incident.stream.name).toBe(SELF_STREAM_NAME);

    for (const p of [selfWorker, streamWorker]) {
      p.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  }, 240_000);
});
