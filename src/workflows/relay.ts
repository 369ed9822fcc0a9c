import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { jobIds, START_JOB_OPTIONS } from './queue.ts';
import { ownsExecution, TRIGGER_STREAM_SELECT } from './execution-owner.ts';

/**
 * The outbox relay: executions are rows written in the same transaction as
 * the incident change that called for them; this hands every QUEUED one not
 * yet enqueued to BullMQ, with the execution id as job id. A crash before
 * enqueueing loses nothing (the next pass finds the row); a crash after
 * enqueueing but before marking doubles nothing (BullMQ refuses a second job
 * with that id).
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly db: Db,
    private readonly queue: Queue,
    private readonly log: Logger,
    /** A worker limited to some streams (VIGIL_WORKER_STREAMS) relays only their runbooks' executions. */
    private readonly acceptsStream: (streamName: string) => boolean = () => true,
    private readonly intervalMs = 2000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.poke(), this.intervalMs);
    this.poke();
  }

  /** Relay now (called right after a commit that wrote executions). */
  poke(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.relay()
      .catch((error: Error) => this.log.warn({ error: error.message }, 'outbox relay pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async relay(): Promise<void> {
    let afterId: string | undefined;
    for (;;) {
      const pending = await this.db.runbookExecution.findMany({
        where: { status: 'QUEUED', enqueuedAt: null, ...(afterId ? { id: { gt: afterId } } : {}) },
        orderBy: { id: 'asc' },
        take: 100,
        select: {
          id: true,
          runbook: TRIGGER_STREAM_SELECT,
        },
      });
      afterId = pending.at(-1)?.id;
      for (const { id, runbook } of pending) {
        if (!ownsExecution(runbook, this.acceptsStream)) continue;
        await this.queue.add('start', { executionId: id }, { jobId: jobIds.start(id), ...START_JOB_OPTIONS });
        await this.db.runbookExecution.updateMany({ where: { id, enqueuedAt: null }, data: { enqueuedAt: new Date() } });
      }
      if (pending.length < 100) return;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
