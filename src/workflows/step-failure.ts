import type { Logger } from 'pino';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { redactUrlsIn } from '../core/redact-url.ts';
import type { Services } from '../services/container.ts';
import type { WorkflowJob } from './queue.ts';

/** BullMQ's reason when it fails a job whose workers died more than maxStalledCount times. */
export const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

export function stalledReason(stalls: number): string {
  return `the step's worker stopped ${stalls} times`;
}

/**
 * A step failed for good: the step FAILED with the reason, the execution
 * FAILED, its later steps CANCELLED and the incident's timeline told, in one
 * transaction that only an execution still QUEUED or RUNNING lets through.
 * The runner, BullMQ's stalled-job failure and the reconciler may each get
 * here for the same step; the first records it, the others add nothing.
 */
export async function recordStepFailed(
  services: Services,
  failure: { executionId: string; index: number; attempt: number; reason: string },
): Promise<boolean> {
  const { db } = services.ports;
  const { executionId, index, attempt } = failure;
  // Stored, shown on timelines and logged: a URL in it must not carry credentials.
  const reason = redactUrlsIn(failure.reason);
  const now = new Date();
  const incidentId = await db.$transaction(async (tx) => {
    // The step did fail, even when the execution was cancelled meanwhile.
    await tx.stepExecution.updateMany({
      where: { executionId, index, status: { notIn: ['SUCCEEDED', 'FAILED'] } },
      data: { status: 'FAILED', error: reason, attempts: attempt, finishedAt: now },
    });
    const stopped = await tx.runbookExecution.updateMany({
      where: { id: executionId, status: { in: ['QUEUED', 'RUNNING'] } },
      data: { status: 'FAILED', finishedAt: now },
    });
    if (stopped.count !== 1) return undefined;
    await tx.stepExecution.updateMany({ where: { executionId, status: 'QUEUED' }, data: { status: 'CANCELLED' } });
    const execution = await tx.runbookExecution.findUniqueOrThrow({
      where: { id: executionId },
      select: { incidentId: true, runbook: { select: { name: true } }, steps: { where: { index }, select: { action: true } } },
    });
    const name = execution.runbook.name;
    if (execution.incidentId) {
      await tx.incidentEvent.create({
        data: {
          incidentId: execution.incidentId,
          kind: 'STEP_FAILED',
          message: `step ${index + 1} (${execution.steps[0]?.action ?? 'unknown'}) failed after ${attempt} attempt(s): ${reason}; runbook "${name}" stopped`,
          actor: `runbook ${name}`,
        },
      });
    }
    return execution.incidentId;
  });
  if (incidentId === undefined) return false;
  await announce(services, executionId, incidentId);
  return true;
}

/** An execution whose start job BullMQ gave up on: FAILED before any step ran, saying why. */
export async function recordStartFailed(services: Services, executionId: string, reason: string): Promise<boolean> {
  const { db } = services.ports;
  const now = new Date();
  const incidentId = await db.$transaction(async (tx) => {
    const stopped = await tx.runbookExecution.updateMany({
      where: { id: executionId, status: { in: ['QUEUED', 'RUNNING'] } },
      data: { status: 'FAILED', finishedAt: now },
    });
    if (stopped.count !== 1) return undefined;
    await tx.stepExecution.updateMany({ where: { executionId, status: { in: ['QUEUED', 'RUNNING'] } }, data: { status: 'CANCELLED' } });
    const execution = await tx.runbookExecution.findUniqueOrThrow({ where: { id: executionId }, select: { incidentId: true, runbook: { select: { name: true } } } });
    if (execution.incidentId) {
      await tx.incidentEvent.create({
        data: {
          incidentId: execution.incidentId,
          kind: 'RUNBOOK_FAILED',
          message: `runbook "${execution.runbook.name}" could not start: ${redactUrlsIn(reason)}`,
          actor: 'vigil',
        },
      });
    }
    return execution.incidentId;
  });
  if (incidentId === undefined) return false;
  await announce(services, executionId, incidentId);
  return true;
}

/** What a failed runbook job tells: its kind, what it was for, and how far it got. */
export interface GivenUpJob {
  name: string;
  data: unknown;
  attemptsMade: number;
  stalledCounter: number;
  failedReason?: string | undefined;
}

/**
 * A runbook job BullMQ failed without our processor recording why: it
 * stalled too often (the processor never ran for that last delivery), or the
 * reconciler found it failed with its execution still running. Only start
 * and step jobs hold an execution up; anything else is left alone.
 */
export async function recordGivenUpJob(services: Services, job: GivenUpJob, maxStalls: number, log: Logger): Promise<boolean> {
  const reason =
    job.failedReason === STALLED_TOO_OFTEN || job.failedReason === undefined
      ? stalledReason(Math.max(job.stalledCounter, maxStalls + 1))
      : job.failedReason;
  const { name, data } = job as unknown as WorkflowJob;
  switch (name) {
    case 'step': {
      // BullMQ counted the failure it gave up with among the attempts made.
      const attempt = (data.priorAttempts ?? 0) + Math.max(1, job.attemptsMade);
      const recorded = await recordStepFailed(services, { executionId: data.executionId, index: data.index, attempt, reason });
      if (recorded) log.warn({ execution: data.executionId, step: data.index, reason }, 'runbook step failed: BullMQ gave up on it');
      return recorded;
    }
    case 'start': {
      const recorded = await recordStartFailed(services, data.executionId, reason);
      if (recorded) log.warn({ execution: data.executionId, reason }, 'runbook execution failed: BullMQ gave up on its start');
      return recorded;
    }
    default:
      return false;
  }
}

async function announce(services: Services, executionId: string, incidentId: string | null): Promise<void> {
  await services.pubsub.publish(CHANNELS.executions, { id: executionId });
  if (incidentId) await services.pubsub.publish(CHANNELS.incidents, { id: incidentId });
}
