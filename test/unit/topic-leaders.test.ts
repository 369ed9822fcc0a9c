import { describe, expect, it } from 'vitest';
import { createTopicWithLeaders } from '../../src/stream/kafkajs-transport.ts';

/** A stand-in for kafkajs' admin: createTopics fails as given, metadata shows leaders from the n-th read on. */
function admin(createError: unknown, leadersFromRead: number) {
  let reads = 0;
  return {
    reads: () => reads,
    createTopics: async () => {
      if (createError) throw createError;
      return true;
    },
    fetchTopicMetadata: async () => {
      reads += 1;
      const leader = reads >= leadersFromRead ? 1 : -1;
      return { topics: [{ name: 't', partitions: [0, 1].map((partitionId) => ({ partitionId, leader, replicas: [1], isr: [1], partitionErrorCode: 0 })) }] };
    },
  };
}

const spec = { topic: 't', numPartitions: 2, configEntries: [] };

describe('creating a topic on a slow broker', () => {
  it('waits past a retriable failure of kafkajs’ own leader wait until every partition has a leader', async () => {
    const a = admin(Object.assign(new Error('This server does not host this topic-partition'), { retriable: true }), 3);
    await createTopicWithLeaders(a as never, spec, 10_000);
    expect(a.reads()).toBe(3);
  });

  it('rethrows an error that is not retriable, without waiting', async () => {
    const a = admin(Object.assign(new Error('Topic name is invalid'), { retriable: false }), 1);
    await expect(createTopicWithLeaders(a as never, spec, 10_000)).rejects.toThrow('Topic name is invalid');
    expect(a.reads()).toBe(0);
  });

  it('gives up after its deadline, naming the topic and keeping the first error as the cause', async () => {
    const first = Object.assign(new Error('leader not available'), { retriable: true });
    const failure = await createTopicWithLeaders(admin(first, Number.POSITIVE_INFINITY) as never, spec, 300).catch((e: Error) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/topic t: partitions without a leader/);
    expect((failure as Error).cause).toBe(first);
  });
});
