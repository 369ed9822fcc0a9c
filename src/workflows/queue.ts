import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * The one BullMQ queue of the workflows: runbook executions (start, steps,
 * verification) and the recurring jobs (retention, SLAs, self-monitoring,
 * canaries, the incident sweep). Its Redis name, `runbooks`, is from before
 * the recurring jobs joined it; it stays so that running deployments keep
 * their jobs and schedulers.
 */
export const WORKFLOW_QUEUE = 'runbooks';

/** A runbook execution's jobs (runbook-machine.ts). */
export type RunbookJob =
  | { name: 'start'; data: { executionId: string } }
  /**
   * `priorAttempts`: tries already made by an earlier job for this step, when the reconciler
   * enqueued it again after Redis lost it (the retry budget and attempt numbers go on from there).
   */
  | { name: 'step'; data: { executionId: string; index: number; priorAttempts?: number } }
  | { name: 'verify'; data: { executionId: string } };

/** The recurring jobs, each made by a job scheduler (schedules.ts) and run from a dispatch table (recurring-jobs.ts). */
export type ScheduledJob =
  | { name: 'sweep-incidents'; data: Record<string, never> }
  | { name: 'retention'; data: Record<string, never> }
  /** `streams`: the stream-name patterns of the worker that scheduled it (VIGIL_WORKER_STREAMS); null: every stream. */
  | { name: 'evaluate-slas'; data: { streams: string[] | null } }
  /** A round of synthetic canaries to the streams of `streams` (as for evaluate-slas). */
  | { name: 'canary'; data: { streams: string[] | null } }
  /** `streams`: the stream-name patterns to sample (VIGIL_SELF_MONITOR_STREAMS), null: every ACTIVE stream; `group`: whose lag. */
  | { name: 'self-monitor'; data: { streams: string[] | null; group: string } };

/** Every job the workflow queue carries. */
export type WorkflowJob = RunbookJob | ScheduledJob;

/** BullMQ needs connections that retry forever (maxRetriesPerRequest: null); they are its own. */
export function bullConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

/** The queue, and its connection: whoever must know when Redis comes back listens to its 'ready'. */
export function createWorkflowQueue(redisUrl: string, prefix: string): { queue: Queue; connection: Redis } {
  const connection = bullConnection(redisUrl);
  return { queue: new Queue(WORKFLOW_QUEUE, { connection, prefix }), connection };
}

/** Job ids are derived from what they do, so enqueueing twice (a retry, a relay restart) adds nothing. */
export const jobIds = {
  start: (executionId: string) => executionId,
  step: (executionId: string, index: number) => `${executionId}-step-${index}`,
  verify: (executionId: string) => `${executionId}-verify`,
};

/** Tries a step gets, its first included (params.maxAttempts, default 3). */
export function stepMaxAttempts(params: unknown): number {
  return Number((params as Record<string, unknown> | null)?.maxAttempts ?? 3);
}

/** A step's job options, the same whoever enqueues it (the runner, or the reconciler after Redis lost it). */
export function stepJobOptions(executionId: string, index: number, attempts: number, backoffMs: number): JobsOptions {
  return {
    jobId: jobIds.step(executionId, index),
    attempts: Math.max(1, attempts),
    backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: 1000,
    removeOnFail: 5000,
  };
}

/** The start job's options (the relay's, and the reconciler's when Redis lost it). */
export const START_JOB_OPTIONS = { removeOnComplete: 1000, removeOnFail: 5000 } as const;
/** A verification's job options, the same whoever enqueues it (the runner, or the reconciler after Redis lost it). */
export function verifyJobOptions(executionId: string, delayMs: number): JobsOptions {
  return { jobId: jobIds.verify(executionId), delay: Math.max(0, delayMs), removeOnComplete: 1000 };
}
