/**
 * Bounds the events a worker holds in memory across the partitions it
 * processes at once. A batch that would pass the bound waits (its partition
 * fetches nothing meanwhile, since kafkajs fetches a partition again only
 * after its batch returns), so memory stays bounded whatever producers do.
 */
export class InFlightGate {
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  /** Total milliseconds batches spent waiting: the visible cost of backpressure. */
  waitedMs = 0;

  constructor(readonly limit: number) {}

  get current(): number {
    return this.inFlight;
  }

  /** Waits until `events` fit under the limit (a batch larger than the limit runs alone). */
  async acquire(events: number, whileWaiting?: () => Promise<void>): Promise<void> {
    const started = Date.now();
    while (this.inFlight > 0 && this.inFlight + events > this.limit) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        // Wake up now and then to keep group membership alive while waiting.
        setTimeout(resolve, 1000).unref();
      });
      await whileWaiting?.();
    }
    this.inFlight += events;
    this.waitedMs += Date.now() - started;
  }

  release(events: number): void {
    this.inFlight = Math.max(0, this.inFlight - events);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
