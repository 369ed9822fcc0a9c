import type { EventConsumer, TopicPartition } from './transport.ts';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** A lost connection or a conflict usually clears in well under a second; a database restart takes seconds. */
export const BATCH_RETRY_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };

/** The wait before retry number `attempt` (1 for the first): doubling from initialMs, capped at maxMs. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = BATCH_RETRY_BACKOFF): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}

const keyOf = ({ topic, partition }: TopicPartition) => `${topic}:${partition}`;

/**
 * Retrying a failed batch without holding up the others. kafkajs fetches
 * again only once every batch of its last fetch has returned, so a partition
 * waiting inside eachBatch would stall every partition of the broker; and a
 * batch thrown out of eachBatch makes kafkajs retry and then restart the
 * whole consumer. So the failed partition is paused, its batch returns, and
 * it is resumed after the backoff; the worker, having forgotten its state,
 * restores it from PostgreSQL and seeks back to the position of record.
 */
export class PartitionBackoff {
  private readonly attempts = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly consumer: () => EventConsumer | undefined,
    private readonly policy: BackoffPolicy = BATCH_RETRY_BACKOFF,
  ) {}

  /** Pauses the partition and schedules its resume; returns the wait in ms. */
  failed(failing: TopicPartition): number {
    // Only the name: the caller may pass its whole batch, which the timer must not keep alive.
    const partition = { topic: failing.topic, partition: failing.partition };
    const key = keyOf(partition);
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const delay = backoffDelay(attempt, this.policy);
    this.consumer()?.pause([partition]);
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      // The consumer of now: after a rejoin it may be a new one, for which resuming is harmless.
      this.consumer()?.resume([partition]);
    }, delay);
    timer.unref();
    this.timers.set(key, timer);
    return delay;
  }

  /** A batch of the partition went through: the next failure starts from the shortest wait again. */
  succeeded(partition: TopicPartition): void {
    this.attempts.delete(keyOf(partition));
  }

  /** Partitions waiting now (for logs and tests). */
  get waiting(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.attempts.clear();
  }
}
