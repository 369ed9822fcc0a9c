import { afterAll, describe, expect, it } from 'vitest';
import type { PubSub } from '../../src/pubsub/pubsub.ts';
import { uniqueName } from '../support/env.ts';
import { Signal } from '../support/signal.ts';

/**
 * What the gateway and the worker rely on from src/pubsub/pubsub.ts, as
 * tests any implementation must pass: a message published in one process
 * reaches every subscriber of its channel in every process, in order, as the
 * JSON it was, and a subscription ends when aborted or returned.
 */
export type PubSubFactory = () => Promise<PubSub>;

const WAIT_MS = 10_000;

/** Reads `iterator` in the background, recording each message and the end. */
function reader<T>(iterator: AsyncIterableIterator<T>) {
  const received: T[] = [];
  let ended = false;
  const signal = new Signal();
  const reading = (async () => {
    for await (const message of iterator) {
      received.push(message);
      signal.notify();
    }
    ended = true;
    signal.notify();
  })();
  return {
    received,
    ended: () => ended,
    reading,
    until: (done: () => boolean, what: string) => signal.until(done, WAIT_MS, () => `${what}; received ${JSON.stringify(received)}, ended ${ended}`),
  };
}

export function describePubSub(implementation: string, open: PubSubFactory): void {
  describe(`PubSub conformance: ${implementation}`, () => {
    const opened: PubSub[] = [];
    const instance = async () => {
      const pubsub = await open();
      opened.push(pubsub);
      return pubsub;
    };
    afterAll(async () => {
      await Promise.all(opened.map((p) => p.close()));
    });

    /** A subscription that is live: what is published from now on reaches it. */
    async function liveSubscription<T>(pubsub: PubSub, channel: string, abort?: AbortSignal) {
      const r = reader(pubsub.subscribe<T>(channel, abort));
      await pubsub.subscribed?.(channel);
      return r;
    }

    it('confirms a subscription (replay then live, src/schema/resumable.ts, reads the database only after it)', async () => {
      const pubsub = await instance();
      const channel = uniqueName('conformance-confirm');
      const iterator = pubsub.subscribe(channel);
      expect(typeof pubsub.subscribed).toBe('function');
      await expect(pubsub.subscribed!(channel)).resolves.toBeUndefined();
      await iterator.return!();
    });

    it('delivers what another instance publishes once subscribed, in order, as the JSON it was', async () => {
      const [publisher, subscriber] = [await instance(), await instance()];
      const channel = uniqueName('conformance-order');
      const r = await liveSubscription<unknown>(subscriber, channel);
      const payloads = [{ id: 'a', nested: { n: 1.5, list: [1, 'two', null] } }, 'a string', 42, [true, false], { id: 'z' }];
      for (const payload of payloads) await publisher.publish(channel, payload);
      await r.until(() => r.received.length >= payloads.length, 'every payload');
      expect(r.received).toEqual(payloads);
    });

    it('reaches every subscriber of the channel, in this instance and another', async () => {
      const [publisher, other] = [await instance(), await instance()];
      const channel = uniqueName('conformance-fanout');
      const readers = [await liveSubscription(publisher, channel), await liveSubscription(publisher, channel), await liveSubscription(other, channel)];
      await publisher.publish(channel, { n: 1 });
      for (const r of readers) await r.until(() => r.received.length === 1, 'the message');
      expect(readers.map((r) => r.received)).toEqual([[{ n: 1 }], [{ n: 1 }], [{ n: 1 }]]);
    });

    it('keeps channels apart', async () => {
      const pubsub = await instance();
      const [mine, theirs] = [uniqueName('conformance-mine'), uniqueName('conformance-theirs')];
      const r = await liveSubscription(pubsub, mine);
      // Published first, so a leak would arrive before the message that ends the wait.
      await pubsub.publish(theirs, { for: 'theirs' });
      await pubsub.publish(mine, { for: 'mine' });
      await r.until(() => r.received.length > 0, 'the message on my channel');
      expect(r.received).toEqual([{ for: 'mine' }]);
    });

    it('ends a subscription when its signal aborts, also while it waits, and leaves the other subscribers of the channel live', async () => {
      const pubsub = await instance();
      const channel = uniqueName('conformance-abort');
      const controller = new AbortController();
      const aborted = await liveSubscription(pubsub, channel, controller.signal);
      const staying = await liveSubscription(pubsub, channel);
      controller.abort();
      await aborted.until(aborted.ended, 'the aborted subscription ending');

      await pubsub.publish(channel, { after: 'abort' });
      await staying.until(() => staying.received.length === 1, 'the other subscriber');
      expect(aborted.received).toEqual([]);
    });

    it('ends a subscription when its iterator is returned, and a later subscription of the channel is live', async () => {
      const pubsub = await instance();
      const channel = uniqueName('conformance-return');
      const iterator = pubsub.subscribe<unknown>(channel);
      await pubsub.subscribed?.(channel);
      await expect(iterator.return!()).resolves.toMatchObject({ done: true });
      await expect(iterator.next()).resolves.toMatchObject({ done: true });

      const again = await liveSubscription(pubsub, channel);
      await pubsub.publish(channel, { again: true });
      await again.until(() => again.received.length === 1, 'the message to the new subscription');
    });
  });
}
