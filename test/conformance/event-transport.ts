import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchControl, EventConsumer, EventTransport, IncomingBatch, IncomingMessage, TopicPartition } from '../../src/stream/transport.ts';
import { uniqueName } from '../support/env.ts';
import { Signal } from '../support/signal.ts';

/**
 * What the worker relies on from Kafka, as tests any implementation of
 * src/stream/transport.ts must pass: topic admin and offsets, producing by
 * key or partition, and a consumer-group member that delivers in order,
 * fetches a failed batch again, seeks, pauses and leaves its group on stop.
 */
export interface EventTransportSubject {
  transport: EventTransport;
  /** A new member of consumer group `groupId`. */
  consumer(groupId: string): EventConsumer;
}

const WAIT_MS = 30_000;

/** A started consumer that records what it is given; `onBatch` may act on a batch before it is recorded. */
class Recorder {
  readonly batches: IncomingBatch[] = [];
  assigned: TopicPartition[] = [];
  private readonly signal = new Signal();

  constructor(readonly consumer: EventConsumer) {}

  async start(topics: string[], onBatch?: (batch: IncomingBatch, control: BatchControl) => Promise<'skip' | void>): Promise<this> {
    await this.consumer.start(topics, {
      onBatch: async (batch, control) => {
        if (batch.messages.length === 0) return;
        const verdict = await onBatch?.(batch, control);
        if (verdict !== 'skip') this.batches.push(batch);
        this.signal.notify();
      },
      onAssignment: (assigned) => {
        this.assigned = assigned;
        this.signal.notify();
      },
    });
    return this;
  }

  messages(partition: number): IncomingMessage[] {
    return this.batches.filter((b) => b.partition === partition).flatMap((b) => b.messages);
  }

  values(partition: number): string[] {
    return this.messages(partition).map((m) => m.value?.toString('utf8') ?? '<null>');
  }

  until(done: () => boolean, what: string): Promise<void> {
    return this.signal.until(done, WAIT_MS, () => `${what}; assigned ${JSON.stringify(this.assigned)}, batches ${JSON.stringify(this.batches.map((b) => [b.partition, b.messages.map((m) => m.offset)]))}`);
  }

  assignedCount(): number {
    return this.assigned.length;
  }
}

export function describeEventTransport(implementation: string, open: () => Promise<EventTransportSubject>): void {
  describe(`EventTransport conformance: ${implementation}`, () => {
    let subject: EventTransportSubject;
    const started: EventConsumer[] = [];

    beforeAll(async () => {
      subject = await open();
    });
    afterAll(async () => {
      await Promise.all(started.map((c) => c.stop()));
      await subject?.transport.close();
    });

    async function topic(partitions: number, maxMessageBytes?: number): Promise<string> {
      const name = uniqueName('conformance');
      await subject.transport.ensureTopic(name, partitions, maxMessageBytes);
      return name;
    }

    function recorder(group = uniqueName('conformance-group')): Recorder {
      const consumer = subject.consumer(group);
      started.push(consumer);
      return new Recorder(consumer);
    }

    describe('topic admin and producing', () => {
      it('answers a ping while the broker is up', async () => {
        await expect(subject.transport.ping()).resolves.toBeUndefined();
      });

      it('knows no partitions of a topic never created; ensureTopic creates it, and again keeps its partitions', async () => {
        const name = uniqueName('conformance-absent');
        expect(await subject.transport.partitionCount(name)).toBeUndefined();
        await subject.transport.ensureTopic(name, 3);
        expect(await subject.transport.partitionCount(name)).toBe(3);
        await subject.transport.ensureTopic(name, 5);
        expect(await subject.transport.partitionCount(name)).toBe(3);
      });

      it('grows a topic: addPartitions gives it more partitions, and the new ones take messages', async () => {
        const name = await topic(2);
        await subject.transport.addPartitions(name, 4);
        expect(await subject.transport.partitionCount(name)).toBe(4);
        await subject.transport.produce(name, [{ key: null, value: 'new partition', partition: 3 }]);
        expect(await subject.transport.endOffsets(name)).toEqual(new Map([[0, 0n], [1, 0n], [2, 0n], [3, 1n]]));
      });

      it('counts end offsets per partition: what an explicit partition was given, nothing for an empty produce', async () => {
        const name = await topic(3);
        expect(await subject.transport.endOffsets(name)).toEqual(new Map([[0, 0n], [1, 0n], [2, 0n]]));
        await subject.transport.produce(name, [
          { key: null, value: 'a', partition: 1 },
          { key: null, value: 'b', partition: 1 },
          { key: 'k', value: 'c', partition: 2 },
        ]);
        await subject.transport.produce(name, []);
        expect(await subject.transport.endOffsets(name)).toEqual(new Map([[0, 0n], [1, 2n], [2, 1n]]));
      });

      it('puts every message of one key on one partition', async () => {
        const name = await topic(4);
        await subject.transport.produce(name, Array.from({ length: 6 }, (_, i) => ({ key: 'host-a', value: String(i) })));
        const ends = [...(await subject.transport.endOffsets(name)).values()];
        expect(ends.filter((end) => end > 0n)).toEqual([6n]);
      });

      it('finds offsets by time: the first message for a time before it, the end for a time after every message', async () => {
        const name = await topic(2);
        await subject.transport.produce(name, [
          { key: null, value: 'a', partition: 0 },
          { key: null, value: 'b', partition: 0 },
        ]);
        const hourAgo = new Date(Date.now() - 3_600_000);
        const inAnHour = new Date(Date.now() + 3_600_000);
        expect(await subject.transport.offsetsForTime(name, hourAgo)).toEqual(new Map([[0, 0n], [1, 0n]]));
        expect(await subject.transport.offsetsForTime(name, inAnHour)).toEqual(new Map([[0, 2n], [1, 0n]]));
      });

      it('answers offsets of, and a produce to, a topic the broker does not have with an error naming it, not with retries', async () => {
        const missing = uniqueName('conformance-missing');
        await expect(subject.transport.endOffsets(missing)).rejects.toThrow(`topic ${missing} does not exist on the broker`);
        await expect(subject.transport.offsetsForTime(missing, new Date())).rejects.toThrow(`topic ${missing} does not exist on the broker`);
        await expect(subject.transport.produce(missing, [{ key: 'k', value: 'v' }])).rejects.toThrow(`topic ${missing} does not exist on the broker`);
        expect(await subject.transport.partitionCount(missing)).toBeUndefined();
        // Created since the listing above was asked: found, not answered from that listing.
        const name = await topic(1);
        expect(await subject.transport.endOffsets(name)).toEqual(new Map([[0, 0n]]));
      });

      it("refuses a message over the topic's maxMessageBytes, and takes one under it", async () => {
        const name = await topic(1, 2048);
        await expect(subject.transport.produce(name, [{ key: null, value: 'x'.repeat(8192) }])).rejects.toThrow();
        await subject.transport.produce(name, [{ key: null, value: 'x'.repeat(512) }]);
        expect(await subject.transport.endOffsets(name)).toEqual(new Map([[0, 1n]]));
      });
    });

    describe('a consumer-group member', () => {
      it('is assigned every partition and gets each message once, in order, with key, value, headers, offset and timestamp', async () => {
        const name = await topic(2);
        const before = Date.now();
        await subject.transport.produce(name, [
          { key: 'h1', value: 'p0-first', partition: 0, headers: { 'vigil-test': 'yes' } },
          { key: null, value: 'p0-second', partition: 0 },
          { key: 'h2', value: 'p1-only', partition: 1 },
        ]);
        const r = await recorder().start([name]);
        await r.until(() => r.values(0).length >= 2 && r.values(1).length >= 1, 'all three messages');

        expect([...r.assigned].sort((a, b) => a.partition - b.partition)).toEqual([{ topic: name, partition: 0 }, { topic: name, partition: 1 }]);
        expect(r.values(0)).toEqual(['p0-first', 'p0-second']);
        expect(r.values(1)).toEqual(['p1-only']);
        const [first, second] = r.messages(0);
        expect(first).toMatchObject({ offset: '0', key: 'h1', headers: { 'vigil-test': 'yes' } });
        expect(second).toMatchObject({ offset: '1', key: null, headers: {} });
        expect(Buffer.isBuffer(first!.value)).toBe(true);
        expect(first!.timestamp).toBeGreaterThanOrEqual(before - 60_000);
        expect(first!.timestamp).toBeLessThanOrEqual(Date.now() + 60_000);
        expect(r.batches.every((b) => b.topic === name)).toBe(true);
      });

      it('gives a batch whose handler threw again, from its first message', async () => {
        const name = await topic(1);
        await subject.transport.produce(name, [
          { key: null, value: 'a', partition: 0 },
          { key: null, value: 'b', partition: 0 },
        ]);
        let failures = 0;
        const r = await recorder().start([name], async () => {
          if (failures++ === 0) throw new Error('a batch that fails once (conformance test)');
        });
        await r.until(() => r.values(0).includes('b'), 'the batch again after its handler threw');
        expect(failures).toBeGreaterThanOrEqual(2);
        expect(r.messages(0)[0]!.offset).toBe('0');
      });

      it('reads from where it is told: a seek from inside a batch makes the next batch start at that offset', async () => {
        const name = await topic(1);
        await subject.transport.produce(name, ['a', 'b', 'c', 'd'].map((value) => ({ key: null, value, partition: 0 })));
        let sought = false;
        const r = recorder();
        await r.start([name], async (batch) => {
          if (sought) return;
          sought = true;
          r.consumer.seek(batch.topic, batch.partition, '2');
          return 'skip';
        });
        await r.until(() => r.values(0).includes('d'), 'the messages after the seek');
        expect(sought).toBe(true);
        expect(r.messages(0)[0]!.offset).toBe('2');
        expect(r.values(0).slice(0, 2)).toEqual(['c', 'd']);
      });

      it('gets nothing of a paused partition while others flow, and all of it after resume', async () => {
        const name = await topic(2);
        const r = await recorder().start([name]);
        await r.until(() => r.assignedCount() === 2, 'both partitions assigned');
        r.consumer.pause([{ topic: name, partition: 0 }]);
        await subject.transport.produce(name, [{ key: null, value: 'held', partition: 0 }]);
        await subject.transport.produce(name, [{ key: null, value: 'flows', partition: 1 }]);
        await r.until(() => r.values(1).includes('flows'), 'the unpaused partition');
        expect(r.values(0), 'the paused partition, produced to before the unpaused one').toEqual([]);

        r.consumer.resume([{ topic: name, partition: 0 }]);
        await r.until(() => r.values(0).includes('held'), 'the paused partition after resume');
      });

      it('offers a heartbeat and says a batch is not stale while it owns the partition', async () => {
        const name = await topic(1);
        await subject.transport.produce(name, [{ key: null, value: 'a', partition: 0 }]);
        const seen: boolean[] = [];
        const r = await recorder().start([name], async (_batch, control) => {
          await control.heartbeat();
          seen.push(control.isStale());
        });
        await r.until(() => r.values(0).length > 0, 'one batch');
        expect(seen[0]).toBe(false);
      });

      it('leaves its group on stop: the next member of the group gets every partition and what the first did not finish', async () => {
        const name = await topic(2);
        const group = uniqueName('conformance-handover');
        const first = await recorder(group).start([name]);
        await first.until(() => first.assignedCount() === 2, 'the first member assigned');
        await first.consumer.stop();

        await subject.transport.produce(name, [{ key: null, value: 'after-stop', partition: 1 }]);
        const second = await recorder(group).start([name]);
        await second.until(() => second.assignedCount() === 2 && second.values(1).includes('after-stop'), 'the second member assigned and reading');
        expect(first.values(1)).toEqual([]);
      });
    });
  });
}
