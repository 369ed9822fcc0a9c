import type { Queue } from 'bullmq';
import type { Config } from '../config.ts';
import { consumesSelfStream } from './self-monitor.ts';

const KEEP = { removeOnComplete: 100, removeOnFail: 100 };

/**
 * The recurring jobs, as BullMQ job schedulers (upserting is idempotent, so
 * every worker process may declare them). Workers limited to some streams
 * share the queue: jobs about streams get a scheduler per set of streams,
 * and the job carries which streams it covers.
 */
export async function scheduleRecurringJobs(queue: Queue, config: Config): Promise<void> {
  const streams = config.workerStreams ?? null;
  const perStreams = (name: string) => (streams ? `${name}:${streams.join(',')}` : name);

  await queue.upsertJobScheduler('sweep-incidents', { every: config.incidentSweepMs }, { name: 'sweep-incidents', data: {} });
  await queue.upsertJobScheduler('retention', { every: config.retentionSweepMs }, { name: 'retention', data: {} });
  await queue.upsertJobScheduler(
    perStreams('evaluate-slas'),
    { every: config.slaEvaluationMs },
    { name: 'evaluate-slas', data: { streams }, opts: KEEP },
  );
  // VIGIL_CANARY_MS=0 removes this set's scheduler.
  if (config.canaryMs > 0) {
    await queue.upsertJobScheduler(perStreams('canary'), { every: config.canaryMs }, { name: 'canary', data: { streams }, opts: KEEP });
  } else {
    await queue.removeJobScheduler(perStreams('canary'));
  }
  // Only workers that consume the self stream sample for it; the job names what to sample, whoever runs it.
  if (config.selfMonitorMs > 0 && consumesSelfStream(streams ?? undefined)) {
    const sampled = config.selfMonitorStreams ?? null;
    const group = config.selfMonitorGroup;
    await queue.upsertJobScheduler(
      `self-monitor:${group}${sampled ? `:${sampled.join(',')}` : ''}`,
      { every: config.selfMonitorMs },
      { name: 'self-monitor', data: { streams: sampled, group }, opts: KEEP },
    );
  }
}
