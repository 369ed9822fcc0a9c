import type { JobSchedulerTemplateOptions, Queue } from 'bullmq';
import type { Config } from '../core/config.ts';
import type { ScheduledJob } from './queue.ts';
import { consumesSelfStream } from './self-monitor.ts';

const KEEP = { removeOnComplete: 100, removeOnFail: 100 };

/** One recurring job as a BullMQ job scheduler: its id, how often, and the job it makes. */
export interface RecurringJob {
  schedulerId: string;
  everyMs: number;
  job: ScheduledJob & { opts?: JobSchedulerTemplateOptions };
}

/**
 * The recurring jobs this process's configuration calls for, and the
 * schedulers it wants gone. Workers limited to some streams share the queue:
 * jobs about streams get a scheduler per set of streams, and the job carries
 * which streams it covers.
 */
export function recurringJobsOf(config: Config): { wanted: RecurringJob[]; unwanted: string[] } {
  const streams = config.workerStreams ?? null;
  const perStreams = (name: string) => (streams ? `${name}:${streams.join(',')}` : name);
  const wanted: RecurringJob[] = [
    { schedulerId: 'sweep-incidents', everyMs: config.incidentSweepMs, job: { name: 'sweep-incidents', data: {} } },
    { schedulerId: 'retention', everyMs: config.retentionSweepMs, job: { name: 'retention', data: {} } },
    { schedulerId: perStreams('evaluate-slas'), everyMs: config.slaEvaluationMs, job: { name: 'evaluate-slas', data: { streams }, opts: KEEP } },
  ];
  const unwanted: string[] = [];
  // VIGIL_CANARY_MS=0 removes this set's scheduler.
  if (config.canaryMs > 0) {
    wanted.push({ schedulerId: perStreams('canary'), everyMs: config.canaryMs, job: { name: 'canary', data: { streams }, opts: KEEP } });
  } else {
    unwanted.push(perStreams('canary'));
  }
  // Only workers that consume the self stream sample for it; the job names what to sample, whoever runs it.
  if (config.selfMonitorMs > 0 && consumesSelfStream(streams ?? undefined)) {
    const sampled = config.selfMonitorStreams ?? null;
    const group = config.selfMonitorGroup;
    wanted.push({
      schedulerId: `self-monitor:${group}${sampled ? `:${sampled.join(',')}` : ''}`,
      everyMs: config.selfMonitorMs,
      job: { name: 'self-monitor', data: { streams: sampled, group }, opts: KEEP },
    });
  }
  return { wanted, unwanted };
}

export function upsertRecurringJob(queue: Queue, recurring: RecurringJob): Promise<unknown> {
  return queue.upsertJobScheduler(recurring.schedulerId, { every: recurring.everyMs }, recurring.job);
}

/**
 * Declares the recurring jobs as BullMQ job schedulers (upserting is
 * idempotent, so every worker process may declare them). The schedule keeper
 * (schedule-keeper.ts) declares again whatever Redis later loses.
 */
export async function scheduleRecurringJobs(queue: Queue, config: Config): Promise<void> {
  const { wanted, unwanted } = recurringJobsOf(config);
  for (const recurring of wanted) await upsertRecurringJob(queue, recurring);
  for (const schedulerId of unwanted) await queue.removeJobScheduler(schedulerId);
}
