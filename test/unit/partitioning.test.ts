import { describe, expect, it } from 'vitest';
import { PartitionCheck } from '../../src/stream/partitioning.ts';

/** 'foobar' hashes to -790332482 in Kafka's Java client (its UtilsTest vectors; test/unit/murmur2.test.ts checks them all). */
const FOOBAR_HASH = -790332482;
const toPositive = (hash: number) => hash & 0x7fffffff;

describe('PartitionCheck', () => {
  it('says where a series belongs when it arrived elsewhere, and nothing when it arrived right', () => {
    const check = new PartitionCheck();
    const right = toPositive(FOOBAR_HASH) % 3;
    expect(check.misrouted('foobar', right, 3)).toBeUndefined();
    expect(check.misrouted('foobar', (right + 1) % 3, 3)).toBe(right);
    // A new partition count (updateStream) is a new answer, not the memo of the old one.
    expect(check.misrouted('foobar', toPositive(FOOBAR_HASH) % 16, 16)).toBeUndefined();
  });
});
