import type { CheckpointPolicy } from './partition-restore.ts';
import type { TimerPeriods } from './worker-timers.ts';

export interface WorkerOptions extends CheckpointPolicy, TimerPeriods {
  /** Events held in memory at once, across partitions. */
  maxInFlightEvents: number;
  /** Called after a commit wrote runbook executions (the outbox), to relay them at once. */
  onExecutionsPlanned: (executionIds: string[]) => void;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  checkpointEvents: 100_000,
  checkpointIntervalMs: 10_000,
  catalogRefreshMs: 2_000,
  maxInFlightEvents: 20_000,
  tickIntervalMs: 1_000,
  statsIntervalMs: 2_000,
  onExecutionsPlanned: () => undefined,
};

/** A running stream worker, as the process (and a test) holds it. */
export interface Worker {
  id: string;
  /**
   * Settles once a registry re-read that begins after the call has completed:
   * a stream registered, paused or resumed, or a detector changed before the
   * call is then what the worker runs.
   */
  refreshed(): Promise<void>;
  /** Settles once replay instructions (replayStream) reach this worker. */
  listening: Promise<void>;
  stop(): Promise<void>;
}
