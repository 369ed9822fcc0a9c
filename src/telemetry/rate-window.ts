/**
 * A sliding minute of per-stream counts in 5-second buckets, from which the
 * events-per-second and error-rate gauges are read at collection: the
 * pipeline adds per batch, nothing allocates per event.
 */
const BUCKET_MS = 5_000;
const BUCKETS = 12;

/** Per 5-second bucket for the last minute: `events per second` and `error rate` as gauges. */
export class RateWindow {
  private readonly stamps = new Float64Array(BUCKETS).fill(-1);
  /** Events committed (valid or dead-lettered). */
  private readonly committed = new Float64Array(BUCKETS);
  /** Events dead-lettered or held in a batch that failed. */
  private readonly errors = new Float64Array(BUCKETS);
  /** Events of batches that failed (to be fetched again). */
  private readonly failed = new Float64Array(BUCKETS);

  add(now: number, committed: number, deadLetters: number, failed: number): void {
    const bucket = Math.floor(now / BUCKET_MS);
    const i = bucket % BUCKETS;
    if (this.stamps[i] !== bucket) {
      this.stamps[i] = bucket;
      this.committed[i] = 0;
      this.errors[i] = 0;
      this.failed[i] = 0;
    }
    this.committed[i]! += committed;
    this.errors[i]! += deadLetters + failed;
    this.failed[i]! += failed;
  }

  read(now: number): { eventsPerSecond: number; errorRate: number } {
    const bucket = Math.floor(now / BUCKET_MS);
    let committed = 0;
    let errors = 0;
    let failed = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.stamps[i]! > bucket - BUCKETS) {
        committed += this.committed[i]!;
        errors += this.errors[i]!;
        failed += this.failed[i]!;
      }
    }
    const seconds = ((BUCKETS - 1) * BUCKET_MS + (now % BUCKET_MS)) / 1000;
    const seen = committed + failed;
    return { eventsPerSecond: committed / seconds, errorRate: seen === 0 ? 0 : errors / seen };
  }
}
