import { createRequire } from 'node:module';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { javaPartition, murmur2 } from '../../src/stream/murmur2.ts';

/** kafkajs' own murmur2 (over an emulated 64-bit Long), the function ours replaces. */
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;

/** Kafka's own vectors (org.apache.kafka.common.utils.UtilsTest.testMurmur2), signed 32-bit as the Java client returns them. */
const JAVA_MURMUR2: ReadonlyArray<readonly [string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

/** Seeded bytes, so a failure names a case that can be run again. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = (x >>> 16) & 0xff;
  }
  return out;
}

describe('murmur2', () => {
  it.each(JAVA_MURMUR2)('hashes %s as the Java client does', (key, hash) => {
    expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it('agrees with kafkajs on every tail length, on bytes of all values and on UTF-8 keys', () => {
    for (let length = 0; length <= 67; length++) {
      for (let seed = 1; seed <= 5; seed++) {
        const data = bytes(length, seed);
        expect(murmur2(data), `length ${length}, seed ${seed}`).toBe(kafkajsMurmur2(data));
      }
    }
    for (const key of ['', 'é', 'ключ-серии', '主机-7', '🚀 host'.repeat(9)]) expect(murmur2(Buffer.from(key)), key).toBe(kafkajsMurmur2(key));
  });

  it('agrees with kafkajs on a 20,000-byte key, the kind a dead letter can carry', () => {
    const data = bytes(20_003, 42);
    expect(murmur2(data)).toBe(kafkajsMurmur2(data));
  });
});

const toPositive = (hash: number) => hash & 0x7fffffff;
const COUNTS = [1, 2, 3, 7, 12, 16, 50, 1000];

describe('javaPartition', () => {
  it.each(JAVA_MURMUR2)('puts %s where the Java client does, for any partition count, from the string or its bytes', (key, hash) => {
    for (const count of COUNTS) {
      expect(javaPartition(key, count), `${count} partitions`).toBe(toPositive(hash) % count);
      expect(javaPartition(Buffer.from(key), count), `${count} partitions, bytes`).toBe(toPositive(hash) % count);
    }
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
