import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PubSub } from './pubsub.ts';

/** A subscriber that reads slower than events arrive loses the oldest ones, not the process's memory. */
const MAX_QUEUED_PER_SUBSCRIBER = 1000;

type Listener = (payload: unknown) => void;

/**
 * PubSub over Redis: one publishing and one subscribing connection per
 * process, whatever the number of GraphQL subscriptions.
 */
export class RedisPubSub implements PubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly confirmations = new Map<string, Promise<void>>();

  constructor(redisUrl: string, private readonly log: Logger) {
    this.publisher = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.subscriber = new Redis(redisUrl, { lazyConnect: false });
    this.subscriber.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      let payload: unknown;
      try {
        payload = JSON.parse(message);
      } catch (error) {
        this.log.warn({ channel, error }, 'dropped a pub/sub message that is not JSON');
        return;
      }
      for (const listener of set) listener(payload);
    });
    for (const connection of [this.publisher, this.subscriber]) {
      connection.on('error', (error: Error) => this.log.warn({ error: error.message }, 'redis pub/sub connection error'));
    }
  }

  async publish(channel: string, payload: unknown): Promise<void> {
    await this.publisher.publish(channel, JSON.stringify(payload));
  }

  subscribe<T>(channel: string, signal?: AbortSignal): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const listener: Listener = (payload) => {
      if (queue.length >= MAX_QUEUED_PER_SUBSCRIBER) queue.shift();
      queue.push(payload as T);
      wake?.();
    };
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      const confirmed = this.subscriber.subscribe(channel).then(
        () => undefined,
        (error: Error) => this.log.error({ channel, error: error.message }, 'redis subscribe failed'),
      );
      this.confirmations.set(channel, confirmed);
    }
    set.add(listener);

    const finish = () => {
      if (done) return;
      done = true;
      const listeners = this.listeners.get(channel);
      listeners?.delete(listener);
      if (listeners && listeners.size === 0) {
        this.listeners.delete(channel);
        this.confirmations.delete(channel);
        void this.subscriber.unsubscribe(channel).catch(() => undefined);
      }
      wake?.();
    };
    signal?.addEventListener('abort', finish, { once: true });

    const iterator: AsyncIterableIterator<T> = {
      next: async () => {
        while (queue.length === 0 && !done) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        return { value: undefined, done: true };
      },
      return: async () => {
        finish();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  async subscribed(channel: string): Promise<void> {
    await this.confirmations.get(channel);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.confirmations.clear();
    await Promise.all([this.publisher.quit().catch(() => undefined), this.subscriber.quit().catch(() => undefined)]);
  }
}
