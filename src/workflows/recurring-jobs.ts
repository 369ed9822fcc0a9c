import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import type { Services } from '../services/container.ts';
import { streamNameFilter } from '../stream/catalog.ts';
import { sendCanaries } from './canary.ts';
import { sweepQuietIncidents } from './incident-sweep.ts';
import type { ScheduledJob } from './queue.ts';
import { applyRetention } from './retention.ts';
import { sampleSelf } from './self-monitor.ts';
import { SlaEvaluator } from './sla-evaluation.ts';

export interface RecurringJobContext {
  services: Services;
  config: Config;
  log: Logger;
}

type DataOf<Name extends ScheduledJob['name']> = Extract<ScheduledJob, { name: Name }>['data'];

/**
 * What each recurring job does, by job name (schedules.ts makes the jobs).
 * A job's result is kept by BullMQ for a while: a summary, for whoever
 * looks at the queue. A new recurring job is a row here and a scheduler there.
 */
export const RECURRING_JOBS: { [Name in ScheduledJob['name']]: (data: DataOf<Name>, context: RecurringJobContext) => Promise<unknown> } = {
  retention: async (_data, { services, log }) => {
    const deleted = await applyRetention(services.ports.db, new Date());
    if (deleted.anomalies + deleted.deadLetters + deleted.incidents + deleted.changeCommits > 0) log.info(deleted, 'retention deleted old rows');
    return deleted;
  },
  'evaluate-slas': async (data, { services, log }) => {
    const summary = await new SlaEvaluator(services, log).evaluateAll(streamNameFilter(data.streams ?? undefined));
    return { evaluated: summary.evaluated, breached: summary.breached.length, recovered: summary.recovered.length, failed: summary.failed };
  },
  'self-monitor': (data, { services, config }) => sampleSelf(services, { streams: data.streams ?? null, group: data.group ?? config.selfMonitorGroup }),
  canary: (data, { services, log }) => sendCanaries(services, log, streamNameFilter(data.streams ?? undefined)),
  'sweep-incidents': async (_data, { services }) => {
    const resolved = await sweepQuietIncidents(services.ports.db);
    for (const id of resolved) await services.pubsub.publish(CHANNELS.incidents, { id });
    return { resolved: resolved.length };
  },
};

export function isScheduledJob(job: { name: string }): job is ScheduledJob {
  return Object.hasOwn(RECURRING_JOBS, job.name);
}

/** Runs a recurring job by its name. */
export function runRecurringJob(job: ScheduledJob, context: RecurringJobContext): Promise<unknown> {
  const run = RECURRING_JOBS[job.name] as (data: ScheduledJob['data'], context: RecurringJobContext) => Promise<unknown>;
  return run(job.data, context);
}
