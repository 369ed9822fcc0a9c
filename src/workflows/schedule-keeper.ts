import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { recurringJobsOf, upsertRecurringJob } from './schedules.ts';

/**
 * Re-creates the recurring jobs Redis no longer has (it restarted empty, or
 * lost its data): called when the queue's connection is ready again and on a
 * timer. Only missing schedulers are declared again; upserting one that
 * exists could move its next run. Returns the ids it re-created.
 */
export async function restoreMissingSchedules(queue: Queue, config: Config, log: Logger): Promise<string[]> {
  const restored: string[] = [];
  for (const recurring of recurringJobsOf(config).wanted) {
    if (await queue.getJobScheduler(recurring.schedulerId)) continue;
    await upsertRecurringJob(queue, recurring);
    restored.push(recurring.schedulerId);
  }
  if (restored.length > 0) log.warn({ restored }, 'recurring jobs were missing from Redis: declared again');
  return restored;
}
