import type { Redis } from 'ioredis';

/** Rates are kept in 10-second buckets for the last minute: enough for "events per second now". */
const BUCKET_MS = 10_000;
const WINDOW_BUCKETS = 6;
const KEY = (streamId: string) => `vigil:stream-stats:${streamId}`;

export interface StreamActivity {
  events: number;
  deadLetters: number;
  /** Kafka timestamp of the newest event seen. */
  lastEventAt: number;
}

export interface StreamRates {
  eventsPerSecond: number;
  errorRate: number;
  lastEventAt: Date | null;
}

/**
 * Each worker's per-stream counts, added to a small Redis hash per stream
 * (`e:<bucket>`, `d:<bucket>`, `last`), so any gateway can answer
 * StreamHealth for streams whose partitions are spread over many workers.
 */
export class StreamStats {
  private pending = new Map<string, StreamActivity>();

  constructor(private readonly redis: Redis) {}

  record(streamId: string, activity: StreamActivity): void {
    const current = this.pending.get(streamId);
    if (!current) {
      this.pending.set(streamId, { ...activity });
      return;
    }
    current.events += activity.events;
    current.deadLetters += activity.deadLetters;
    current.lastEventAt = Math.max(current.lastEventAt, activity.lastEventAt);
  }

  /** Writes what was recorded since the last flush; returns the streams that had activity. */
  async flush(now = Date.now()): Promise<string[]> {
    const pending = this.pending;
    this.pending = new Map();
    if (pending.size === 0) return [];
    const bucket = Math.floor(now / BUCKET_MS);
    const pipeline = this.redis.pipeline();
    for (const [streamId, activity] of pending) {
      const key = KEY(streamId);
      pipeline.hincrby(key, `e:${bucket}`, activity.events);
      pipeline.hincrby(key, `d:${bucket}`, activity.deadLetters);
      // Only moves forward: several workers write the same stream.
      pipeline.eval(
        "local v = tonumber(redis.call('HGET', KEYS[1], 'last') or '0'); if tonumber(ARGV[1]) > v then redis.call('HSET', KEYS[1], 'last', ARGV[1]) end; return 0",
        1,
        key,
        String(activity.lastEventAt),
      );
      for (let old = bucket - WINDOW_BUCKETS - 6; old <= bucket - WINDOW_BUCKETS; old++) pipeline.hdel(key, `e:${old}`, `d:${old}`);
      pipeline.pexpire(key, 7 * 24 * 3600 * 1000);
    }
    await pipeline.exec();
    return [...pending.keys()];
  }

  /** Rates over the last minute (the current, partial bucket included). */
  async rates(streamId: string, now = Date.now()): Promise<StreamRates> {
    const fields = await this.redis.hgetall(KEY(streamId));
    const bucket = Math.floor(now / BUCKET_MS);
    let events = 0;
    let deadLetters = 0;
    for (let b = bucket - WINDOW_BUCKETS + 1; b <= bucket; b++) {
      events += Number(fields[`e:${b}`] ?? 0);
      deadLetters += Number(fields[`d:${b}`] ?? 0);
    }
    const seconds = (WINDOW_BUCKETS - 1) * (BUCKET_MS / 1000) + (now % BUCKET_MS) / 1000;
    const last = Number(fields.last ?? 0);
    return {
      eventsPerSecond: events / seconds,
      errorRate: events === 0 ? 0 : deadLetters / events,
      lastEventAt: last > 0 ? new Date(last) : null,
    };
  }
}
