import type { MisroutingRecord } from '../stream/stream-stats.ts';

/**
 * The note a stream carries once a worker saw a keyed event on another
 * partition than the one Kafka's Java client picks for its series key (see
 * src/stream/partitioning.ts): such a series is split, each part with its own
 * baseline, so its anomalies are not to be trusted until the producer is fixed.
 */
export function partitioningNote(record: MisroutingRecord | null): string | null {
  if (!record) return null;
  const { seriesKey, partition, expected, at } = record.last;
  return (
    `${record.total} event(s) since ${record.firstAt.toISOString()} arrived on another partition than their series key hashes to, ` +
    `so those series are split across partitions (each part learns its own baseline). ` +
    `Latest at ${new Date(at).toISOString()}: series ${JSON.stringify(seriesKey)} on partition ${partition}, expected ${expected}. ` +
    `Produce with the series key as the message key and the Java client's default (murmur2) partitioner, as publishEvents does; ` +
    `kcat needs -X partitioner=murmur2_random (docs/api.md, "Streams and events": the key rule).`
  );
}
