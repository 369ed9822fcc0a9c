import { UnrecoverableError, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { redactUrlsIn } from '../core/redact-url.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import type { Services } from '../services/container.ts';
import type { Db } from '../store/db.ts';
import { traceRunbookStep } from '../telemetry/spans.ts';
import { ACTIONS } from './actions.ts';
import { jobIds, stepJobOptions, stepMaxAttempts, verifyJobOptions } from './queue.ts';
import { verifyExecution, verifyWithinSeconds } from './runbook-verify.ts';
import { StepFailure } from './step-context.ts';
import { recordStepFailed } from './step-failure.ts';

/** Which try of a step this delivery is (BullMQ's counts plus those of an earlier job for the same step). */
export interface StepTries {
  attempt: number;
  maxAttempts: number;
  /** Deliveries started, including those a dead worker never finished. */
  delivery: number;
}

/**
 * A runbook execution as a state machine over BullMQ jobs:
 * QUEUED -start-> RUNNING -step 0..n-> SUCCEEDED (-verify-> verified or not),
 * or FAILED when a step fails for good, CANCELLED from outside. Each step is
 * its own job with its own retries and exponential backoff. Every transition
 * is a conditional update, so a job delivered twice (BullMQ delivers at least
 * once, and a worker may die between doing and recording) moves nothing twice.
 */
export class RunbookMachine {
  constructor(
    private readonly services: Services,
    private readonly config: Config,
    private readonly queue: Queue,
    private readonly log: Logger,
  ) {}

  async start(executionId: string): Promise<void> {
    const { db } = this.services.ports;
    const execution = await db.runbookExecution.findUnique({
      where: { id: executionId },
      include: { runbook: true, steps: { orderBy: { index: 'asc' } } },
    });
    if (!execution || !['QUEUED', 'RUNNING'].includes(execution.status)) return;
    const started = await db.runbookExecution.updateMany({ where: { id: executionId, status: 'QUEUED' }, data: { status: 'RUNNING' } });
    if (started.count === 1) {
      await this.timeline(execution.incidentId, 'RUNBOOK_STARTED', `runbook "${execution.runbook.name}" started (${executionId})`, 'vigil');
      await this.announce(executionId, execution.incidentId);
    }
    const next = execution.steps.find((s) => s.status !== 'SUCCEEDED');
    if (next) await this.enqueueStep(executionId, next.index, next.params);
  }

  async step(executionId: string, index: number, { attempt, maxAttempts, delivery }: StepTries): Promise<unknown> {
    const { db } = this.services.ports;
    const execution = await db.runbookExecution.findUnique({
      where: { id: executionId },
      include: { runbook: true, incident: true, steps: { orderBy: { index: 'asc' } } },
    });
    const step = execution?.steps.find((s) => s.index === index);
    if (!execution || !step) throw new UnrecoverableError(`execution ${executionId} step ${index} does not exist`);
    const actor = `runbook ${execution.runbook.name}`;
    if (execution.status === 'CANCELLED' || execution.status === 'FAILED') {
      // A step waiting for its retry when the execution stopped ends here, not left RUNNING.
      await db.stepExecution.updateMany({
        where: { executionId, index, status: { in: ['RUNNING', 'QUEUED'] } },
        data: { status: 'CANCELLED', finishedAt: new Date() },
      });
      return { skipped: execution.status };
    }
    const next = execution.steps.find((s) => s.index === index + 1);
    if (step.status === 'SUCCEEDED') {
      // Done before a crash stopped us from going on: go on.
      if (next) await this.enqueueStep(executionId, next.index, next.params);
      else await this.finish(execution.id);
      return step.output;
    }
    await db.stepExecution.update({
      where: { executionId_index: { executionId, index } },
      data: { status: 'RUNNING', attempts: attempt, startedAt: step.startedAt ?? new Date() },
    });
    await this.announce(executionId, null);
    try {
      const traceparent = await incidentTraceparent(db, execution.incidentId).catch(() => null);
      const output = await traceRunbookStep(
        traceparent,
        { executionId, runbook: execution.runbook.name, index, action: step.action, attempt, incidentId: execution.incidentId },
        () =>
          ACTIONS[step.action]({
            execution,
            runbookName: execution.runbook.name,
            incident: execution.incident,
            step,
            params: step.params as Record<string, unknown>,
            attempt,
            delivery: Math.max(attempt, delivery),
            services: this.services,
            config: this.config,
            log: this.log,
          }),
      );
      await db.stepExecution.update({
        where: { executionId_index: { executionId, index } },
        data: { status: 'SUCCEEDED', output: (output ?? null) as Prisma.InputJsonValue, error: null, finishedAt: new Date() },
      });
      await this.timeline(execution.incidentId, 'STEP_SUCCEEDED', `step ${index + 1} (${step.action}) succeeded after ${attempt} attempt(s)`, actor);
      if (next) await this.enqueueStep(executionId, next.index, next.params);
      else await this.finish(execution.id);
      await this.announce(executionId, execution.incidentId);
      return output;
    } catch (error) {
      // Stored, shown on timelines and logged: a URL in it must not carry credentials.
      const reason = redactUrlsIn((error as Error).message);
      const final = error instanceof StepFailure || attempt >= maxAttempts;
      if (final) {
        await recordStepFailed(this.services, { executionId, index, attempt, reason });
        throw unrecoverable(reason, error);
      }
      await db.stepExecution.update({ where: { executionId_index: { executionId, index } }, data: { error: reason } });
      await this.timeline(
        execution.incidentId,
        'STEP_RETRYING',
        `step ${index + 1} (${step.action}) attempt ${attempt} of ${maxAttempts} failed: ${reason}; retrying`,
        actor,
      );
      await this.announce(executionId, null);
      throw error;
    }
  }

  /** Did the remediation help? (runbook-verify.ts) */
  async verify(executionId: string): Promise<void> {
    const incidentId = await verifyExecution(this.services.ports.db, executionId);
    if (incidentId !== undefined) await this.announce(executionId, incidentId);
  }

  private async finish(executionId: string): Promise<void> {
    const { db } = this.services.ports;
    const done = await db.runbookExecution.updateMany({
      where: { id: executionId, status: 'RUNNING' },
      data: { status: 'SUCCEEDED', finishedAt: new Date() },
    });
    if (done.count !== 1) return;
    const execution = await db.runbookExecution.findUniqueOrThrow({ where: { id: executionId }, include: { runbook: true, steps: true } });
    await this.timeline(execution.incidentId, 'RUNBOOK_SUCCEEDED', `runbook "${execution.runbook.name}" succeeded`, 'vigil');
    const verifyWithin = verifyWithinSeconds(execution.steps);
    if (verifyWithin > 0 && execution.incidentId) {
      await this.timeline(execution.incidentId, 'VERIFYING', `watching for ${verifyWithin} s whether the remediation helped`, 'vigil');
      await this.queue.add('verify', { executionId }, verifyJobOptions(executionId, verifyWithin * 1000));
    }
  }

  private async announce(executionId: string, incidentId: string | null): Promise<void> {
    await this.services.pubsub.publish(CHANNELS.executions, { id: executionId });
    if (incidentId) await this.services.pubsub.publish(CHANNELS.incidents, { id: incidentId });
  }

  private async timeline(incidentId: string | null, kind: string, message: string, actor: string): Promise<void> {
    if (incidentId) await this.services.ports.db.incidentEvent.create({ data: { incidentId, kind, message, actor } });
  }

  private async enqueueStep(executionId: string, index: number, params: Prisma.JsonValue): Promise<void> {
    await this.queue.add('step', { executionId, index }, stepJobOptions(executionId, index, stepMaxAttempts(params), this.config.stepBackoffMs));
  }
}

/**
 * The traceparent of an incident's first anomaly that carried one: runbook
 * steps join that anomaly's trace. One indexed lookup per step attempt.
 */
export async function incidentTraceparent(db: Db, incidentId: string | null): Promise<string | null> {
  if (!incidentId) return null;
  const first = await db.anomaly.findFirst({
    where: { incidentId, traceparent: { not: null } },
    orderBy: { id: 'asc' },
    select: { traceparent: true },
  });
  return first?.traceparent ?? null;
}

/** BullMQ's UnrecoverableError takes no options: the cause is set after. */
function unrecoverable(reason: string, cause: unknown): UnrecoverableError {
  const error = new UnrecoverableError(reason);
  error.cause = cause;
  return error;
}
