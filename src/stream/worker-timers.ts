import type { Logger } from 'pino';
import { CHANNELS } from '../pubsub/pubsub.ts';
import type { WorkerPorts } from './ports.ts';
import { WORKER_HEARTBEAT_INTERVAL_MS } from './worker-heartbeat.ts';

/** What the worker does on the clock rather than per batch. */
export interface ClockedWork {
  /** Refreshes this worker's liveness key. */
  heartbeat(): Promise<void>;
  /** Re-reads the registry for new streams, pauses and detector changes. */
  refreshCatalog(): Promise<void>;
  /** Asks time-driven detectors (FRESHNESS) about silence. */
  checkSilence(): Promise<void>;
  /** Shares per-stream counts for StreamHealth. */
  flushStats(): Promise<void>;
}

export interface TimerPeriods {
  catalogRefreshMs: number;
  tickIntervalMs: number;
  statsIntervalMs: number;
}

/**
 * The worker's timers. Each piece of work handles its own failures except
 * the catalog refresh, whose failure is logged here: the next round retries.
 */
export class WorkerTimers {
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly work: ClockedWork,
    private readonly periods: TimerPeriods,
    private readonly log: Logger,
  ) {}

  start(): void {
    const { work, periods } = this;
    this.timers.push(
      setInterval(() => void work.heartbeat(), WORKER_HEARTBEAT_INTERVAL_MS),
      setInterval(() => {
        work.refreshCatalog().catch((error: unknown) => this.log.error({ err: error }, 'registry refresh failed'));
      }, periods.catalogRefreshMs),
      setInterval(() => void work.checkSilence(), periods.tickIntervalMs),
      setInterval(() => void work.flushStats(), periods.statsIntervalMs),
    );
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }
}

/** Shares this worker's per-stream counts (for StreamHealth) and tells streamHealth subscribers. */
export async function flushStreamStats(ports: Pick<WorkerPorts, 'stats' | 'pubsub'>, log: Logger): Promise<void> {
  try {
    const streams = await ports.stats.flush();
    await Promise.all(streams.map((streamId) => ports.pubsub.publish(CHANNELS.streamHealth, { streamId })));
  } catch (error) {
    log.warn({ err: error }, 'stream stats flush failed');
  }
}
