import { Worker as BullWorker, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { redactUrlsIn } from '../core/redact-url.ts';
import type { Services } from '../services/container.ts';
import { observeQueueDepth, observeSilences, recordJobFailure } from '../telemetry/metrics.ts';
import { bullConnection, WORKFLOW_QUEUE, type RunbookJob, type WorkflowJob } from './queue.ts';
import { isScheduledJob, runRecurringJob } from './recurring-jobs.ts';
import { RunbookMachine } from './runbook-machine.ts';
import { scheduleRecurringJobs } from './schedules.ts';
import { recordRecurringRun } from './schedule-watch.ts';
import { recordGivenUpJob, STALLED_TOO_OFTEN } from './step-failure.ts';
import { closeWorker } from './worker-close.ts';

/**
 * The BullMQ worker of the workflow queue: hands each job to the runbook
 * state machine (start, step, verify) or to the recurring jobs' dispatch
 * table, and schedules the recurring jobs when it starts.
 */
export class WorkflowRunner {
  private worker: BullWorker | undefined;
  private connection: ReturnType<typeof bullConnection> | undefined;
  /** Stops reporting the queue's depth and the silences on /metrics. */
  private unobserve: () => void = () => undefined;
  private readonly machine: RunbookMachine;

  constructor(
    private readonly services: Services,
    private readonly config: Config,
    private readonly queue: Queue,
    private readonly log: Logger,
  ) {
    this.machine = new RunbookMachine(services, config, queue, log);
  }

  async start(): Promise<void> {
    this.connection = bullConnection(this.config.redisUrl);
    this.worker = new BullWorker(WORKFLOW_QUEUE, (job) => this.process(job as Job), {
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
    this.worker.on('error', (error) => this.log.warn({ err: redactedError(error) }, 'workflow worker error'));
    this.worker.on('failed', (job, error) => {
      recordJobFailure(job?.name ?? 'unknown');
      this.log.debug({ job: job?.id, err: redactedError(error) }, 'workflow job attempt failed');
      // BullMQ fails a job that stalled too often without running our processor: nothing else would record it.
      if (job && error.message === STALLED_TOO_OFTEN) {
        recordGivenUpJob(this.services, job, this.config.stepMaxStalls, this.log).catch((failure: unknown) =>
          this.log.error({ job: job.id, err: failure }, 'could not record a runbook job BullMQ gave up on; the reconciler will'),
        );
      }
    });
    const unobserveQueue = observeQueueDepth(this.queue.qualifiedName, () =>
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'),
    );
    const unobserveSilences = observeSilences(() => this.services.silences.activeByStream());
    this.unobserve = () => {
      unobserveQueue();
      unobserveSilences();
    };
    await scheduleRecurringJobs(this.queue, this.config);
  }

  async stop(): Promise<void> {
    this.unobserve();
    if (this.worker) await closeWorker(this.worker, this.log);
    // BullMQ leaves a connection it was given open: it would go on reconnecting after a stop.
    this.connection?.disconnect();
  }

  private async process(job: Job): Promise<unknown> {
    const work = job as unknown as WorkflowJob;
    // In PostgreSQL, so a Redis that lost everything does not lose the evidence that runs stopped.
    if (job.repeatJobKey) await recordRecurringRun(this.services.ports.db, job.repeatJobKey, this.log);
    if (isScheduledJob(work)) return runRecurringJob(work, { services: this.services, config: this.config, log: this.log });
    return this.runbookStep(job, work);
  }

  private runbookStep(job: Job, { name, data }: RunbookJob): Promise<unknown> {
    switch (name) {
      case 'start':
        return this.machine.start(data.executionId);
      case 'step': {
        const prior = data.priorAttempts ?? 0;
        // attemptsStarted also counts deliveries a dead worker never finished, attemptsMade only finished ones.
        const tries = { attempt: prior + job.attemptsMade + 1, maxAttempts: prior + (job.opts.attempts ?? 1), delivery: prior + job.attemptsStarted };
        return this.machine.step(data.executionId, data.index, tries);
      }
      case 'verify':
        return this.machine.verify(data.executionId);
    }
  }
}

/** BullMQ's errors may name the Redis URL: logged with the stack, without credentials. */
function redactedError(error: Error): Error {
  const redacted = new Error(redactUrlsIn(error.message), { cause: error.cause });
  redacted.name = error.name;
  if (error.stack) redacted.stack = redactUrlsIn(error.stack);
  return redacted;
}
