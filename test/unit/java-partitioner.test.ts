import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { javaPartitioner } from '../../src/stream/kafkajs-transport.ts';

const metadata = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

const keys = Array.from({ length: 400 }, (_, i) => `host-${i % 130}-${'x'.repeat(i % 7)}é`);

describe('javaPartitioner', () => {
  it('sends every keyed message (string or Buffer key) where kafkajs DefaultPartitioner does, as the partition count changes', () => {
    const ours = javaPartitioner();
    const plain = Partitioners.DefaultPartitioner();
    const placed: string[] = [];
    for (const count of [3, 7, 3, 16, 1]) {
      for (const key of [...keys, ...keys]) {
        const args = { topic: 'orders', partitionMetadata: metadata(count, [1]), message: { key, value: 'v' } };
        const expected = plain(args);
        expect(ours(args), `${key} on ${count} partitions`).toBe(expected);
        expect(ours({ ...args, message: { key: Buffer.from(key), value: 'v' } }), `Buffer ${key}`).toBe(expected);
        placed.push(`${count}:${expected}`);
      }
    }
    // The keys spread over several partitions: an answer stuck on one would not pass as equal above by luck.
    expect(new Set(placed.filter((p) => p.startsWith('16:'))).size).toBeGreaterThan(8);
  });

  it('keeps an explicit partition, and spreads keyless messages over partitions with a leader only', () => {
    const ours = javaPartitioner();
    expect(ours({ topic: 't', partitionMetadata: metadata(3), message: { key: 'host-1', value: 'v', partition: 2 } })).toBe(2);
    const keyless = Array.from({ length: 30 }, () => ours({ topic: 't', partitionMetadata: metadata(3, [1]), message: { key: null, value: 'v' } }));
    expect(new Set(keyless)).toEqual(new Set([0, 2]));
  });
});
