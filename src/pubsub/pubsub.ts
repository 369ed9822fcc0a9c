/**
 * Fan-out of live events (anomalies, incident and execution updates, health)
 * to every gateway process. The worker that finds an anomaly and the gateway
 * holding the subscriber are usually different processes.
 */
export interface PubSub {
  publish(channel: string, payload: unknown): Promise<void>;
  /** Messages on `channel` until the signal aborts or the iterator is returned. */
  subscribe<T>(channel: string, signal?: AbortSignal): AsyncIterableIterator<T>;
  /**
   * Resolves once messages published on `channel` from now on reach this
   * process's subscribers (the broker confirmed the subscription). Replay then
   * live (src/schema/resumable.ts) reads the database only after this.
   */
  subscribed?(channel: string): Promise<void>;
  close(): Promise<void>;
}

export const CHANNELS = {
  anomalies: 'vigil:anomalies',
  incidents: 'vigil:incidents',
  executions: 'vigil:executions',
  streamHealth: 'vigil:stream-health',
  /** Instructions to workers, e.g. { type: 'replay', topic }. */
  control: 'vigil:control',
} as const;
