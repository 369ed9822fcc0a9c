import type { Redis } from 'ioredis';
import type { MisroutedSample } from './partitioning.ts';

/** Rates are kept in 10-second buckets for the last minute: enough for "events per second now". */
const BUCKET_MS = 10_000;
const WINDOW_BUCKETS = 6;
const KEY = (streamId: string) => `vigil:stream-stats:${streamId}`;

/**
 * Coarser counts for windows longer than a minute (SLA evaluation): minutes
 * for a day, hours for 31 days (the longest SLA window is 30 days). Each in a
 * hash of its own, read with HMGET of just the buckets a window needs.
 */
export interface BucketSeries {
  suffix: string;
  bucketMs: number;
  keep: number;
}
export const WINDOW_SERIES: readonly BucketSeries[] = [
  { suffix: '', bucketMs: BUCKET_MS, keep: WINDOW_BUCKETS },
  { suffix: ':m', bucketMs: 60_000, keep: 24 * 60 },
  { suffix: ':h', bucketMs: 3_600_000, keep: 31 * 24 },
];

/**
 * The buckets that cover the last `windowSeconds` (the current, partial
 * bucket included), in the finest series that keeps that far back; a window
 * longer than any series keeps is cut to the longest. `since` is where the
 * first bucket starts: the counts cover [since, now], which differs from the
 * window by less than one bucket (10 s, 1 min or 1 h).
 */
export function windowBuckets(windowSeconds: number, now: number, series: readonly BucketSeries[] = WINDOW_SERIES) {
  const windowMs = Math.max(1, windowSeconds) * 1000;
  const chosen = series.find((s) => s.bucketMs * s.keep >= windowMs) ?? series[series.length - 1]!;
  const count = Math.min(chosen.keep, Math.ceil(windowMs / chosen.bucketMs));
  const last = Math.floor(now / chosen.bucketMs);
  const first = last - count + 1;
  return { series: chosen, first, last, since: new Date(first * chosen.bucketMs) };
}

export interface StreamWindow {
  events: number;
  deadLetters: number;
  /** Start of the counted period (see windowBuckets). */
  since: Date;
  /** Kafka timestamp of the newest event seen, ever. */
  lastEventAt: Date | null;
}

export interface StreamActivity {
  events: number;
  deadLetters: number;
  /** Events some detector did not score: their series is new and the detector's series cap is reached. */
  untrackedEvents?: number;
  /** Kafka timestamp of the newest event seen. */
  lastEventAt: number;
  /** Keyed events that arrived on another partition than Kafka's Java client picks for their series key. */
  misrouted?: { count: number; last: MisroutedSample };
}

/** What the workers have seen of a stream's partitioning, ever (kept with the stream's counts). */
export interface MisroutingRecord {
  total: number;
  firstAt: Date;
  last: MisroutedSample;
}

export interface StreamRates {
  eventsPerSecond: number;
  errorRate: number;
  /** Events over the last minute that some detector did not score (series cap reached). */
  untrackedEvents: number;
  /** Keyed events over the last minute that arrived on another partition than their series key hashes to. */
  misroutedEvents: number;
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
    current.untrackedEvents = (current.untrackedEvents ?? 0) + (activity.untrackedEvents ?? 0);
    current.lastEventAt = Math.max(current.lastEventAt, activity.lastEventAt);
    if (activity.misrouted) {
      current.misrouted = { count: (current.misrouted?.count ?? 0) + activity.misrouted.count, last: activity.misrouted.last };
    }
  }

  /** Writes what was recorded since the last flush; returns the streams that had activity. */
  async flush(now = Date.now()): Promise<string[]> {
    // While Redis is away the counts wait here (a few numbers per stream) instead of being lost: SLAs read them.
    if (this.pending.size === 0 || this.redis.status !== 'ready') return [];
    const pending = this.pending;
    this.pending = new Map();
    const bucket = Math.floor(now / BUCKET_MS);
    const pipeline = this.redis.pipeline();
    for (const [streamId, activity] of pending) {
      const key = KEY(streamId);
      pipeline.hincrby(key, `e:${bucket}`, activity.events);
      pipeline.hincrby(key, `d:${bucket}`, activity.deadLetters);
      if (activity.untrackedEvents) pipeline.hincrby(key, `u:${bucket}`, activity.untrackedEvents);
      if (activity.misrouted) {
        pipeline.hincrby(key, `m:${bucket}`, activity.misrouted.count);
        pipeline.hincrby(key, 'misrouted', activity.misrouted.count);
        pipeline.hsetnx(key, 'misroutedSince', String(activity.misrouted.last.at));
        pipeline.hset(key, 'misroutedLast', JSON.stringify(activity.misrouted.last));
      }
      // Only moves forward: several workers write the same stream.
      pipeline.eval(
        "local v = tonumber(redis.call('HGET', KEYS[1], 'last') or '0'); if tonumber(ARGV[1]) > v then redis.call('HSET', KEYS[1], 'last', ARGV[1]) end; return 0",
        1,
        key,
        String(activity.lastEventAt),
      );
      for (let old = bucket - WINDOW_BUCKETS - 6; old <= bucket - WINDOW_BUCKETS; old++) pipeline.hdel(key, `e:${old}`, `d:${old}`, `u:${old}`, `m:${old}`);
      pipeline.pexpire(key, 7 * 24 * 3600 * 1000);
      for (const series of WINDOW_SERIES) {
        if (series.suffix === '') continue;
        const coarse = KEY(streamId) + series.suffix;
        const at = Math.floor(now / series.bucketMs);
        pipeline.hincrby(coarse, `e:${at}`, activity.events);
        pipeline.hincrby(coarse, `d:${at}`, activity.deadLetters);
        // Buckets just past what is kept go as time moves on (a long-silent stream's leftovers go with the key's expiry).
        const fields: string[] = [];
        for (let old = at - series.keep - 3; old <= at - series.keep; old++) fields.push(`e:${old}`, `d:${old}`);
        pipeline.hdel(coarse, ...fields);
        pipeline.pexpire(coarse, series.bucketMs * (series.keep + 1));
      }
    }
    await pipeline.exec();
    return [...pending.keys()];
  }

  /** Events and dead letters over about the last `windowSeconds` (see windowBuckets), and the newest event. */
  async window(streamId: string, windowSeconds: number, now = Date.now()): Promise<StreamWindow> {
    const { series, first, last, since } = windowBuckets(windowSeconds, now);
    const fields: string[] = [];
    for (let b = first; b <= last; b++) fields.push(`e:${b}`, `d:${b}`);
    const [counts, newest] = await Promise.all([
      this.redis.hmget(KEY(streamId) + series.suffix, ...fields),
      this.redis.hget(KEY(streamId), 'last'),
    ]);
    let events = 0;
    let deadLetters = 0;
    counts.forEach((value, i) => {
      if (i % 2 === 0) events += Number(value ?? 0);
      else deadLetters += Number(value ?? 0);
    });
    const lastEventAt = Number(newest ?? 0);
    return { events, deadLetters, since, lastEventAt: lastEventAt > 0 ? new Date(lastEventAt) : null };
  }

  /** Rates over the last minute (the current, partial bucket included). */
  async rates(streamId: string, now = Date.now()): Promise<StreamRates> {
    const fields = await this.redis.hgetall(KEY(streamId));
    const bucket = Math.floor(now / BUCKET_MS);
    let events = 0;
    let deadLetters = 0;
    let untrackedEvents = 0;
    let misroutedEvents = 0;
    for (let b = bucket - WINDOW_BUCKETS + 1; b <= bucket; b++) {
      events += Number(fields[`e:${b}`] ?? 0);
      deadLetters += Number(fields[`d:${b}`] ?? 0);
      untrackedEvents += Number(fields[`u:${b}`] ?? 0);
      misroutedEvents += Number(fields[`m:${b}`] ?? 0);
    }
    const seconds = (WINDOW_BUCKETS - 1) * (BUCKET_MS / 1000) + (now % BUCKET_MS) / 1000;
    const last = Number(fields.last ?? 0);
    return {
      eventsPerSecond: events / seconds,
      errorRate: events === 0 ? 0 : deadLetters / events,
      untrackedEvents,
      misroutedEvents,
      lastEventAt: last > 0 ? new Date(last) : null,
    };
  }

  /** Misrouted events seen on the stream ever, and the latest; null when none was. */
  async misrouting(streamId: string): Promise<MisroutingRecord | null> {
    const [total, since, last] = await this.redis.hmget(KEY(streamId), 'misrouted', 'misroutedSince', 'misroutedLast');
    if (!total || !last) return null;
    return { total: Number(total), firstAt: new Date(Number(since ?? 0)), last: JSON.parse(last) as MisroutedSample };
  }
}
