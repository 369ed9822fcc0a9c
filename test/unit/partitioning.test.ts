import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { PartitionCheck, partitionForKey } from '../../src/stream/partitioning.ts';

/**
 * Kafka's Java client sends a keyed message to toPositive(murmur2(key)) %
 * partitions. The hashes below are Kafka's own test vectors
 * (org.apache.kafka.common.utils.UtilsTest.testMurmur2), signed 32-bit as
 * the Java client returns them.
 */
const JAVA_MURMUR2: ReadonlyArray<readonly [string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];
const toPositive = (hash: number) => hash & 0x7fffffff;
const COUNTS = [1, 2, 3, 7, 12, 16, 50, 1000];

describe('partitionForKey', () => {
  it.each(JAVA_MURMUR2)('puts %s where the Java client does, for any partition count', (key, hash) => {
    for (const count of COUNTS) expect(partitionForKey(key, count), `${count} partitions`).toBe(toPositive(hash) % count);
  });

  it('negative control: kafkajs LegacyPartitioner (its default before 2.0) places some of these keys elsewhere', () => {
    const legacy = Partitioners.LegacyPartitioner();
    const metadata = (count: number): PartitionMetadata[] =>
      Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    const differing = JAVA_MURMUR2.flatMap(([key, hash]) =>
      COUNTS.filter((count) => legacy({ topic: 't', partitionMetadata: metadata(count), message: { key, value: null } }) !== toPositive(hash) % count).map(
        (count) => `${key}/${count}`,
      ),
    );
    expect(differing.length).toBeGreaterThan(0);
  });
});

describe('PartitionCheck', () => {
  it('says where a series belongs when it arrived elsewhere, and nothing when it arrived right', () => {
    const check = new PartitionCheck();
    const right = toPositive(-790332482) % 3;
    expect(check.misrouted('foobar', right, 3)).toBeUndefined();
    expect(check.misrouted('foobar', (right + 1) % 3, 3)).toBe(right);
    // A new partition count (updateStream) is a new answer, not the memo of the old one.
    expect(check.misrouted('foobar', toPositive(-790332482) % 16, 16)).toBeUndefined();
  });
});
