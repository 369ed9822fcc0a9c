import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import type { Services } from '../services/container.ts';
import { jobIds, START_JOB_OPTIONS, stepJobOptions, stepMaxAttempts } from './queue.ts';
import { recordGivenUpJob } from './step-failure.ts';
import { ownsExecution, TRIGGER_STREAM_SELECT, type TriggerStream } from './execution-owner.ts';
import { pagedPass } from './paged-pass.ts';

interface Candidate {
  id: string;
  status: string;
  runbook: TriggerStream;
  steps: { index: number; status: string; attempts: number; params: Prisma.JsonValue }[];
}

/** The job an unfinished execution waits on: its start, or the step it is at. */
type PendingJob = { kind: 'start'; jobId: string } | { kind: 'step'; jobId: string; index: number; attempts: number; params: Prisma.JsonValue };

export function awaitedJob(execution: Pick<Candidate, 'id' | 'status' | 'steps'>): PendingJob | undefined {
  if (execution.status === 'QUEUED') return { kind: 'start', jobId: jobIds.start(execution.id) };
  const steps = [...execution.steps].sort((a, b) => a.index - b.index);
  // All steps done but the execution not marked so: the last step's job finishes it.
  const step = steps.find((s) => s.status !== 'SUCCEEDED') ?? steps.at(-1);
  if (!step || step.status === 'FAILED' || step.status === 'CANCELLED') return undefined;
  return { kind: 'step', jobId: jobIds.step(execution.id, step.index), index: step.index, attempts: step.attempts, params: step.params };
}

/**
 * Finds executions PostgreSQL says are under way (QUEUED and handed to
 * BullMQ, or RUNNING, a step waiting for its retry included) whose job Redis
 * no longer has, and enqueues that job again under the same id, so a job
 * that does exist is never doubled and the step's effect stays guarded by
 * its Idempotency-Key. A job BullMQ failed while the execution still runs
 * (the failure never got recorded) ends the execution FAILED with BullMQ's
 * reason. Each pass reads at most `batchSize` executions (the index on
 * status) and asks Redis one question each, going on from where the last
 * pass stopped, so a large backlog is covered over several passes.
 */
export function reconcileRunbooks(
  services: Services,
  queue: Queue,
  config: Config,
  log: Logger,
  acceptsStream: (streamName: string) => boolean,
  batchSize = 100,
): () => Promise<void> {
  const nextPage = pagedPass(batchSize, (afterId, take): Promise<Candidate[]> =>
    services.ports.db.runbookExecution.findMany({
      where: { OR: [{ status: 'QUEUED', enqueuedAt: { not: null } }, { status: 'RUNNING' }], id: { gt: afterId } },
      orderBy: { id: 'asc' },
      take,
      select: {
        id: true,
        status: true,
        runbook: TRIGGER_STREAM_SELECT,
        steps: { select: { index: true, status: true, attempts: true, params: true } },
      },
    }),
  );
  return async () => {
    const candidates = await nextPage();
    const mine = candidates.filter((c) => ownsExecution(c.runbook, acceptsStream));
    const awaited = mine.map((c) => ({ execution: c, job: awaitedJob(c) })).filter((a) => a.job !== undefined);
    const states = await Promise.all(awaited.map(({ job }) => queue.getJobState(job!.jobId)));
    for (const [i, { execution, job }] of awaited.entries()) {
      const state = states[i];
      if (state === 'unknown') await requeue(execution.id, job!);
      else if (state === 'failed') await recordFailed(job!.jobId);
    }
  };

  async function requeue(executionId: string, job: PendingJob): Promise<void> {
    if (job.kind === 'start') {
      await queue.add('start', { executionId }, { jobId: job.jobId, ...START_JOB_OPTIONS });
    } else {
      const maxAttempts = stepMaxAttempts(job.params);
      // Recorded tries count as made, the one under way too (whether it ended is what Redis lost).
      // When that was the last allowed try, it gets one more delivery under its number rather than none.
      const priorAttempts = Math.max(0, Math.min(job.attempts, maxAttempts - 1));
      await queue.add(
        'step',
        { executionId, index: job.index, priorAttempts },
        stepJobOptions(executionId, job.index, maxAttempts - priorAttempts, config.stepBackoffMs),
      );
    }
    log.warn({ execution: executionId, job: job.jobId }, 'runbook job missing from Redis: enqueued again');
  }

  async function recordFailed(jobId: string): Promise<void> {
    const failed = await queue.getJob(jobId);
    if (failed) await recordGivenUpJob(services, failed, config.stepMaxStalls, log);
  }
}
