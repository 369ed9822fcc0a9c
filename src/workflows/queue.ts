import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** The one BullMQ queue of runbook work: starting executions, their steps, verification, sweeps. */
export const RUNBOOK_QUEUE = 'runbooks';

export type RunbookJob =
  | { name: 'start'; data: { executionId: string } }
  | { name: 'step'; data: { executionId: string; index: number } }
  | { name: 'verify'; data: { executionId: string } }
  | { name: 'sweep-incidents'; data: Record<string, never> }
  | { name: 'retention'; data: Record<string, never> }
  /** `streams`: the stream-name patterns of the worker that scheduled it (VIGIL_WORKER_STREAMS); null: every stream. */
  | { name: 'evaluate-slas'; data: { streams: string[] | null } }
  /** A round of synthetic canaries to the streams of `streams` (as for evaluate-slas). */
  | { name: 'canary'; data: { streams: string[] | null } }
  /** `streams`: the stream-name patterns to sample (VIGIL_SELF_MONITOR_STREAMS), null: every ACTIVE stream; `group`: whose lag. */
  | { name: 'self-monitor'; data: { streams: string[] | null; group: string } };

/** BullMQ needs connections that retry forever (maxRetriesPerRequest: null); they are its own. */
export function bullConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

export function createRunbookQueue(redisUrl: string, prefix: string): Queue {
  return new Queue(RUNBOOK_QUEUE, { connection: bullConnection(redisUrl), prefix });
}

/** Job ids are derived from what they do, so enqueueing twice (a retry, a relay restart) adds nothing. */
export const jobIds = {
  start: (executionId: string) => executionId,
  step: (executionId: string, index: number) => `${executionId}-step-${index}`,
  verify: (executionId: string) => `${executionId}-verify`,
};
