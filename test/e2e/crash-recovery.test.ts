import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/env.ts';
import { startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { spawnVigil, waitFor, type VigilProcess } from '../support/processes.ts';
import { mulberry32, seededLatencyEvents } from '../support/seeded-events.ts';
import { anomalyFingerprints, committedEvents, produceEvents, registerStreamWithDetectors } from '../support/streams.ts';

const EVENTS = 12_000;
const KILLS = 6;
let h: Harness;
const running: VigilProcess[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const p of running) p.kill('SIGKILL');
  await h?.close();
});

describe('a worker killed with SIGKILL at random points', () => {
  it('ends with the same anomalies as a run that was never interrupted: none lost, none doubled', async () => {
    const id = uniqueName('crash');
    const crashed = await registerStreamWithDetectors(h, `${id}-killed`, 3);
    const reference = await registerStreamWithDetectors(h, `${id}-reference`, 3);
    const events = seededLatencyEvents(EVENTS, 7);
    await produceEvents([crashed.topic, reference.topic], events);

    // The reference: one uninterrupted worker in this process.
    const referenceGroup = `${id}-reference-group`;
    const steady = await startTestWorker(h, { streams: [reference.name], group: referenceGroup, checkpointEvents: 150 });
    await waitFor(async () => (await committedEvents(h, referenceGroup, reference.topic)) === EVENTS, 120_000, () => 'reference run did not finish');
    await steady.stop();

    // The same events through worker processes that are killed mid-stream and restarted.
    const group = `${id}-killed-group`;
    const env = {
      VIGIL_WORKER_STREAMS: crashed.name,
      VIGIL_CONSUMER_GROUP: group,
      VIGIL_CHECKPOINT_EVENTS: '150',
      // Small fetches: many batches, so many instants to be killed at.
      VIGIL_FETCH_MAX_BYTES: '4096',
      // A killed member holds its partitions until the session times out: keep that short.
      VIGIL_SESSION_TIMEOUT_MS: '6000',
    };
    const random = mulberry32(2026);
    const killedAt: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const worker = spawnVigil(['worker', '--processes', '1'], env);
      running.push(worker);
      const before = await committedEvents(h, group, crashed.topic);
      // Kill only once this run has made progress, so every kill lands mid-stream.
      await waitFor(
        async () => (await committedEvents(h, group, crashed.topic)) > before,
        60_000,
        () => `worker made no progress after restart ${kill}:\n${worker.output().slice(-3000)}`,
        20,
      );
      await new Promise((r) => setTimeout(r, random() * 150));
      worker.kill('SIGKILL');
      await worker.exited;
      killedAt.push(await committedEvents(h, group, crashed.topic));
    }
    expect(killedAt.filter((n) => n < EVENTS).length, `committed events at each kill: ${killedAt.join(', ')}`).toBeGreaterThanOrEqual(5);

    const last = spawnVigil(['worker', '--processes', '1'], env);
    running.push(last);
    await waitFor(
      async () => (await committedEvents(h, group, crashed.topic)) === EVENTS,
      120_000,
      () => `final run did not finish:\n${last.output().slice(-3000)}`,
    );
    last.kill('SIGTERM');
    expect(await last.exited).toBe(0);

    const expected = await anomalyFingerprints(h, reference.id);
    const actual = await anomalyFingerprints(h, crashed.id);
    // The seeded outliers are there, so the comparison is not between two empty sets.
    expect(expected.length).toBeGreaterThanOrEqual(events.filter((e) => e.outlier).length);
    expect(actual).toEqual(expected);
  }, 300_000);
});
