import { UnrecoverableError, Worker as BullWorker, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { redactUrlsIn } from '../core/redact-url.ts';
import type { Services } from '../services/container.ts';
import { SEVERITIES } from '../core/severity.ts';
import { streamNameFilter } from '../stream/catalog.ts';
import { ACTIONS } from './actions.ts';
import { sweepQuietIncidents } from './incident-sweep.ts';
import { applyRetention } from './retention.ts';
import { sendCanaries } from './canary.ts';
import { sampleSelf } from './self-monitor.ts';
import { scheduleRecurringJobs } from './schedules.ts';
import { SlaEvaluator } from './sla-evaluation.ts';
import { bullConnection, jobIds, RUNBOOK_QUEUE, stepJobOptions, stepMaxAttempts, type RunbookJob } from './queue.ts';
import { recordRecurringRun } from './schedule-watch.ts';
import { StepFailure } from './step-context.ts';
import { recordGivenUpJob, recordStepFailed, STALLED_TOO_OFTEN } from './step-failure.ts';
import { closeWorker } from './worker-close.ts';
import { observeQueueDepth, recordJobFailure } from '../telemetry/metrics.ts';
import { traceRunbookStep } from '../telemetry/spans.ts';

/**
 * Runs runbook executions as BullMQ jobs: a `start` job per execution, one
 * `step` job per step (each with its own retries and exponential backoff),
 * then an optional delayed `verify` job. Every job is idempotent: BullMQ
 * delivers at least once, and a worker may die between doing and recording.
 */
export class RunbookRunner {
  private worker: BullWorker | undefined;
  private connection: ReturnType<typeof bullConnection> | undefined;
  private unobserveQueue: () => void = () => undefined;

  constructor(
    private readonly services: Services,
    private readonly config: Config,
    private readonly queue: Queue,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.connection = bullConnection(this.config.redisUrl);
    this.worker = new BullWorker(RUNBOOK_QUEUE, (job) => this.process(job as Job), {
      connection: this.connection,
      prefix: this.config.queuePrefix,
      concurrency: 8,
      // A killed worker's job is taken over within lockDuration + stalledInterval (12.5 s by default) rather
      // than BullMQ's 30 s + 30 s. The check is one cheap script a round, whichever worker runs it.
      lockDuration: this.config.stepLockMs,
      stalledInterval: Math.max(250, Math.floor(this.config.stepLockMs / 4)),
      maxStalledCount: this.config.stepMaxStalls,
    });
    // Redis going away is expected (the reconciler and the schedule keeper repair what it loses): logged, not printed raw on stderr.
    this.worker.on('error', (error) => this.log.warn({ error: redactUrlsIn(error.message) }, 'runbook worker error'));
    this.worker.on('failed', (job, error) => {
      recordJobFailure(job?.name ?? 'unknown');
      this.log.debug({ job: job?.id, error: redactUrlsIn(error.message) }, 'runbook job attempt failed');
      // BullMQ fails a job that stalled too often without running our processor: nothing else would record it.
      if (job && error.message === STALLED_TOO_OFTEN) {
        recordGivenUpJob(this.services, job, this.config.stepMaxStalls, this.log).catch((failure: Error) =>
          this.log.error({ job: job.id, error: failure.message }, 'could not record a runbook job BullMQ gave up on; the reconciler will'),
        );
      }
    });
    this.unobserveQueue = observeQueueDepth(this.queue.qualifiedName, () =>
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'),
    );
    await scheduleRecurringJobs(this.queue, this.config);
  }

  async stop(): Promise<void> {
    this.unobserveQueue();
    if (this.worker) await closeWorker(this.worker, this.log);
    // BullMQ leaves a connection it was given open: it would go on reconnecting after a stop.
    this.connection?.disconnect();
  }

  private async process(job: Job): Promise<unknown> {
    const { name, data } = job as unknown as RunbookJob;
    // In PostgreSQL, so a Redis that lost everything does not lose the evidence that runs stopped.
    if (job.repeatJobKey) await recordRecurringRun(this.services.ports.db, job.repeatJobKey, this.log);
    switch (name) {
      case 'start':
        return this.startExecution(data.executionId);
      case 'step': {
        const prior = data.priorAttempts ?? 0;
        // attemptsStarted also counts deliveries a dead worker never finished, attemptsMade only finished ones.
        const tries = { attempt: prior + job.attemptsMade + 1, maxAttempts: prior + (job.opts.attempts ?? 1), delivery: prior + job.attemptsStarted };
        return this.runStep(data.executionId, data.index, tries);
      }
      case 'verify':
        return this.verify(data.executionId);
      case 'retention': {
        const deleted = await applyRetention(this.services.ports.db, new Date());
        if (deleted.anomalies + deleted.deadLetters + deleted.incidents > 0) this.log.info(deleted, 'retention deleted old rows');
        return deleted;
      }
      case 'evaluate-slas': {
        const summary = await new SlaEvaluator(this.services, this.log).evaluateAll(streamNameFilter(data.streams ?? undefined));
        return { evaluated: summary.evaluated, breached: summary.breached.length, recovered: summary.recovered.length, failed: summary.failed };
      }
      case 'self-monitor':
        return sampleSelf(this.services, { streams: data.streams ?? null, group: data.group ?? this.config.selfMonitorGroup });
      case 'canary':
        return sendCanaries(this.services, this.log, streamNameFilter(data.streams ?? undefined));
      case 'sweep-incidents': {
        const resolved = await sweepQuietIncidents(this.services.ports.db);
        for (const id of resolved) await this.services.pubsub.publish(CHANNELS.incidents, { id });
        return { resolved: resolved.length };
      }
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

  private async startExecution(executionId: string): Promise<void> {
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

  private async runStep(
    executionId: string,
    index: number,
    { attempt, maxAttempts, delivery }: { attempt: number; maxAttempts: number; delivery: number },
  ): Promise<unknown> {
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
      const output = await traceRunbookStep(
        db,
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
        throw new UnrecoverableError(reason);
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

  private async finish(executionId: string): Promise<void> {
    const { db } = this.services.ports;
    const done = await db.runbookExecution.updateMany({
      where: { id: executionId, status: 'RUNNING' },
      data: { status: 'SUCCEEDED', finishedAt: new Date() },
    });
    if (done.count !== 1) return;
    const execution = await db.runbookExecution.findUniqueOrThrow({ where: { id: executionId }, include: { runbook: true, steps: true } });
    await this.timeline(execution.incidentId, 'RUNBOOK_SUCCEEDED', `runbook "${execution.runbook.name}" succeeded`, 'vigil');
    const verifyWithin = Math.max(0, ...execution.steps.map((s) => Number((s.params as Record<string, unknown>).verifyWithinSeconds ?? 0)));
    if (verifyWithin > 0 && execution.incidentId) {
      await this.timeline(execution.incidentId, 'VERIFYING', `watching for ${verifyWithin} s whether the remediation helped`, 'vigil');
      await this.queue.add('verify', { executionId }, { jobId: jobIds.verify(executionId), delay: verifyWithin * 1000, removeOnComplete: 1000 });
    }
  }

  /**
   * Did the remediation help? No new anomaly in the incident's group since it
   * finished, and no SLA whose breach is in the incident still broken:
   * verified, and the incident resolves. Otherwise the timeline says so and
   * the incident escalates. (A breach records one anomaly when it starts, not
   * one per evaluation, so silence alone does not mean an SLA recovered.)
   */
  private async verify(executionId: string): Promise<void> {
    const { db } = this.services.ports;
    const execution = await db.runbookExecution.findUnique({ where: { id: executionId }, include: { incident: true, runbook: true } });
    if (!execution?.incident || !execution.finishedAt || execution.verified !== null) return;
    const incident = execution.incident;
    const newer = await db.anomaly.count({
      where: { incident: { groupKey: incident.groupKey }, detectedAt: { gt: execution.finishedAt }, shadow: false },
    });
    const stillBreached = await db.sla.findMany({
      where: { met: false, anomalies: { some: { incidentId: incident.id } } },
      select: { name: true },
      orderBy: { name: 'asc' },
    });
    if (newer === 0 && stillBreached.length === 0) {
      await db.$transaction([
        db.runbookExecution.update({ where: { id: executionId }, data: { verified: true } }),
        db.incident.updateMany({ where: { id: incident.id, status: { not: 'RESOLVED' } }, data: { status: 'RESOLVED', resolvedAt: new Date() } }),
        db.incidentEvent.create({
          data: { incidentId: incident.id, kind: 'VERIFIED', message: `no new anomaly after runbook "${execution.runbook.name}": resolved`, actor: 'vigil' },
        }),
      ]);
    } else {
      const next = SEVERITIES[Math.min(SEVERITIES.indexOf(incident.severity) + 1, SEVERITIES.length - 1)]!;
      await db.$transaction([
        db.runbookExecution.update({ where: { id: executionId }, data: { verified: false } }),
        db.incident.update({ where: { id: incident.id }, data: { severity: next } }),
        db.incidentEvent.create({
          data: {
            incidentId: incident.id,
            kind: 'NOT_VERIFIED',
            message: `runbook "${execution.runbook.name}" did not help: ${notHelpedBecause(newer, stillBreached.map((s) => s.name))}; severity ${incident.severity} -> ${next}`,
            actor: 'vigil',
          },
        }),
      ]);
    }
    await this.announce(executionId, incident.id);
  }
}

/** Why a verification failed, for the timeline: new anomalies, SLAs still breached, or both. */
export function notHelpedBecause(newAnomalies: number, breachedSlas: readonly string[]): string {
  const reasons: string[] = [];
  if (newAnomalies > 0) reasons.push(`${newAnomalies} new anomal${newAnomalies === 1 ? 'y' : 'ies'} since it finished`);
  if (breachedSlas.length > 0) reasons.push(`SLA${breachedSlas.length === 1 ? '' : 's'} ${breachedSlas.map((n) => `'${n}'`).join(', ')} still breached`);
  return reasons.join(' and ');
}
