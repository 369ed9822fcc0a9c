import { javaPartition } from './murmur2.ts';

/** A misrouted event, as the stream's note reports it. */
export interface MisroutedSample {
  seriesKey: string;
  partition: number;
  expected: number;
  /** Epoch ms the worker saw it. */
  at: number;
}

const MEMO_LIMIT = 50_000;

/**
 * Where a series lives. The worker keeps one baseline per series per
 * partition, so a series must always arrive on one partition: the one Kafka's
 * Java client's default partitioner picks for its key, toPositive(murmur2(key
 * as UTF-8)) % partitions (javaPartition in murmur2.ts, checked against
 * values computed by the Java client). publishEvents produces with it, and
 * the worker checks every keyed event against it (docs/api.md, "Streams and
 * events": the key rule).
 *
 * This is javaPartition with a memo: 0.4 to 1 µs a call otherwise (a UTF-8 copy
 * of the key and its hash, bench:partitioner), on every event of the batch
 * path. Series keys repeat, so the memo stays small; it is dropped
 * whole when a stream has more keys than it should hold.
 */
export class PartitionCheck {
  private memo = new Map<string, number>();
  private memoPartitions = 0;

  /** The partition `seriesKey` belongs on, when it is not `partition`; undefined when it arrived where it belongs. */
  misrouted(seriesKey: string, partition: number, partitions: number): number | undefined {
    if (partitions !== this.memoPartitions || this.memo.size >= MEMO_LIMIT) {
      this.memo = new Map();
      this.memoPartitions = partitions;
    }
    let expected = this.memo.get(seriesKey);
    if (expected === undefined) {
      expected = javaPartition(seriesKey, partitions);
      this.memo.set(seriesKey, expected);
    }
    return expected === partition ? undefined : expected;
  }
}
