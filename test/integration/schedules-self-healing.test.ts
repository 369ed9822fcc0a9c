import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/core/config.ts';
import { startWorkflows, type Workflows } from '../../src/workflows/index.ts';
import { bullConnection, WORKFLOW_QUEUE } from '../../src/workflows/queue.ts';
import { recurringJobsOf } from '../../src/workflows/schedules.ts';
import { SELF_STREAM_NAME } from '../../src/workflows/self-monitor.ts';
import { uniqueName } from '../support/env.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.ts';
import { waitFor } from '../support/processes.ts';
import { createScratchDatabase } from '../support/scratch-db.ts';

/**
 * Recurring jobs on a Redis of this file's own that loses everything, over a
 * database of its own (the self stream's detectors and incidents here are
 * this file's alone): the schedule keeper declares the job schedulers again
 * when Redis comes back or is found empty, and a job that does not run for
 * three of its intervals, Redis being gone for good, raises a
 * self-monitoring incident all the same.
 */
let h: Harness;
let redis: PrivateRedis;
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
const running: Workflows[] = [];
const queues: Queue[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  scratch = await createScratchDatabase();
  h = await startHarness({ env: { REDIS_URL: redis.url, DATABASE_URL: scratch.url } });
});
afterAll(async () => {
  // Stopping needs a Redis to talk to, whatever a test left behind.
  await redis?.start().catch(() => undefined);
  for (const workflows of running) await workflows.stop();
  for (const queue of queues) await queue.close();
  await h?.close();
  await redis?.stop();
  await scratch?.drop();
});

async function startOwnWorkflows(overrides: Partial<Config>): Promise<{ config: Config; queue: Queue }> {
  const config: Config = { ...h.runtime.services.ports.config, canaryMs: 0, ...overrides };
  running.push(await startWorkflows(h.runtime.services, config, h.runtime.services.ports.log.child({ component: 'test-workflows' })));
  const queue = new Queue(WORKFLOW_QUEUE, { connection: bullConnection(redis.url), prefix: config.queuePrefix });
  queue.on('error', () => undefined);
  queues.push(queue);
  return { config, queue };
}

/** Whether every recurring job the configuration calls for has its scheduler in Redis. */
async function allScheduled(queue: Queue, config: Config): Promise<boolean> {
  const present = new Set((await queue.getJobSchedulers()).map((s) => s.key));
  return recurringJobsOf(config).wanted.every((job) => present.has(job.schedulerId));
}

describe('self-healing schedules', () => {
  it('are declared again within seconds when Redis restarts empty', async () => {
    const id = uniqueName('sched-restart');
    // The periodic check is a minute away: only the reconnect can bring them back in time.
    const { config, queue } = await startOwnWorkflows({ queuePrefix: `${id}-queue`, workerStreams: [`${id}-*`], scheduleCheckMs: 60_000, selfMonitorMs: 0 });
    expect(recurringJobsOf(config).wanted.map((j) => j.schedulerId).sort()).toEqual(['evaluate-slas:' + `${id}-*`, 'retention', 'sweep-incidents']);
    expect(await allScheduled(queue, config)).toBe(true);

    await redis.kill();
    await redis.start();
    const restartedAt = Date.now();
    await waitFor(() => allScheduled(queue, config), 10_000, () => 'the recurring jobs were not declared again');
    console.log(`[schedules] declared again ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after Redis came back empty`);
    // And they run: the sweep's next job is there to be taken.
    const sweep = await queue.getJobScheduler('sweep-incidents');
    expect(sweep?.every).toBe(config.incidentSweepMs);
  });

  it('are declared again by the periodic check when Redis lost its data without a reconnect', async () => {
    const id = uniqueName('sched-flush');
    const { config, queue } = await startOwnWorkflows({ queuePrefix: `${id}-queue`, workerStreams: [`${id}-*`], scheduleCheckMs: 300, selfMonitorMs: 0 });
    expect(await allScheduled(queue, config)).toBe(true);

    const admin = new Redis(redis.url);
    await admin.flushall();
    admin.disconnect();
    await waitFor(() => allScheduled(queue, config), 10_000, () => 'the recurring jobs were not declared again after FLUSHALL');
  });

  it('raise a self-monitoring incident for a recurring job that has not run for three of its intervals, Redis being gone', async () => {
    const id = uniqueName('sched-watch');
    const { db } = h.runtime.services.ports;
    await startOwnWorkflows({
      queuePrefix: `${id}-queue`,
      workerStreams: [SELF_STREAM_NAME],
      selfMonitorMs: 300,
      incidentSweepMs: 300,
      slaEvaluationMs: 300,
      scheduleCheckMs: 200,
    });
    const lastRun = async (schedulerId: string) =>
      (await db.$queryRaw<{ lastRunAt: Date }[]>`SELECT "lastRunAt" FROM "RecurringJobRun" WHERE "schedulerId" = ${schedulerId}`)[0]?.lastRunAt;
    // Each run is recorded in PostgreSQL.
    await waitFor(() => lastRun('sweep-incidents'), 15_000, () => 'the incident sweep never ran');

    await redis.kill();
    const killedAt = Date.now();
    const sweepDetector = () => db.detector.findFirst({ where: { name: 'schedule:sweep-incidents', stream: { name: SELF_STREAM_NAME } } });
    const overdueIncident = async () => {
      const detector = await sweepDetector();
      return detector && db.incident.findFirst({ where: { detectorId: detector.id }, include: { timeline: { orderBy: { id: 'asc' } }, anomalies: true } });
    };
    const opened = await waitFor(overdueIncident, 15_000, () => 'no self-monitoring incident for the incident sweep');
    console.log(`[schedules] self-monitoring incident ${((opened.openedAt.getTime() - killedAt) / 1000).toFixed(1)} s after Redis died (sweep every 300 ms)`);
    expect(opened.status).toBe('OPEN');
    expect(opened.severity).toBe('CRITICAL');
    expect(opened.title).toBe('Vigil recurring job "sweep-incidents" stopped running (self-monitoring detector "schedule:sweep-incidents")');
    expect(opened.timeline[0]!.kind).toBe('OPENED');
    expect(opened.timeline[0]!.message).toMatch(/recurring job "sweep-incidents" \(every 300 ms\) has not run for \d+\.\d of its intervals \(last run .+\); the most allowed is 3/);
    expect(opened.anomalies[0]).toMatchObject({ field: 'intervalsWithoutRun', upper: 3, partition: -1 });

    // Later checks keep the one incident alive rather than raising another.
    await waitFor(async () => {
      const later = await overdueIncident();
      return later!.lastSeenAt!.getTime() > opened.lastSeenAt!.getTime() + 500 && later;
    }, 10_000, () => 'the incident was not kept alive');
    expect(await db.incident.count({ where: { detectorId: (await sweepDetector())!.id } })).toBe(1);
    expect((await overdueIncident())!.anomalyCount).toBe(1);

    // Redis back, empty: the schedules are declared again and the sweep runs again.
    const before = (await lastRun('sweep-incidents'))!;
    await redis.start();
    await waitFor(async () => ((await lastRun('sweep-incidents'))?.getTime() ?? 0) > before.getTime(), 15_000, () => 'the sweep did not run again');
  });
});
