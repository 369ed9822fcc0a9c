import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { recordProcessingError } from '../telemetry/metrics.ts';
import { appendThinned, type SeriesPoint, type SeriesTrail, type SeriesTrails } from './series-trail.ts';

/**
 * Recent scored points of each detector's series, kept in Redis for the
 * console's chart (the seriesPoints query): a sorted set per detector and
 * series, scored by event time, holding the last SERIES_POINTS_KEPT points
 * for about a day after the series last scored. It is not of record (an
 * anomaly is, in PostgreSQL): a write that fails is tried again with the
 * next flush (a worker that stops first loses those points), and
 * detection never waits for one.
 */
export const SERIES_POINTS_KEPT = 720;
export const SERIES_POINTS_TTL_MS = 24 * 3_600_000;
/** Writes in flight beyond which a batch's points are dropped: a slow Redis must not pile them up in memory. */
const MAX_PENDING_WRITES = 32;
const FAILURE_REPORT_MS = 10_000;

/** Null (the series of events without a key) and '' are different series: a prefix keeps them apart. */
export function seriesPointsKey(detectorId: string, seriesKey: string | null): string {
  return `vigil:series-points:${detectorId}:${seriesKey === null ? '-' : `=${seriesKey}`}`;
}

/** A compact member: [at, value, expected, lower, upper, anomalous 0|1]; its score is `at`. */
function encode(p: SeriesPoint): string {
  return JSON.stringify([p.at, p.value, p.expected, p.lower, p.upper, p.anomalous ? 1 : 0]);
}

function decode(member: string): SeriesPoint | null {
  try {
    const [at, value, expected, lower, upper, anomalous] = JSON.parse(member) as [number, number, number | null, number | null, number | null, number];
    if (typeof at !== 'number' || typeof value !== 'number') return null;
    return { at, value, expected: expected ?? null, lower: lower ?? null, upper: upper ?? null, anomalous: anomalous === 1 };
  } catch {
    return null;
  }
}

/** The newest `last` points of a series, oldest first. */
export async function readSeriesPoints(redis: Pick<Redis, 'zrange'>, detectorId: string, seriesKey: string | null, last: number): Promise<SeriesPoint[]> {
  const members = await redis.zrange(seriesPointsKey(detectorId, seriesKey), String(-last), '-1');
  const points: SeriesPoint[] = [];
  for (const member of members) {
    const point = decode(member);
    if (point) points.push(point);
  }
  return points;
}

/**
 * Ordinary points a series sends per flush, beside all its anomalous ones. At real-time pace a
 * series has about one point a second anyway; while a worker catches up (a backlog, a replay) event
 * time runs far ahead of the clock, and encoding every second of it cost the worker a tenth of its CPU.
 * At 60 a flush the points were still a tenth of what a catching-up worker allocated (bench:cost's
 * heap profile): ten a second show the newest 72 s of a catch-up in the chart's 720 points.
 */
export const SERIES_POINTS_PER_FLUSH = 10;

/** The newest SERIES_POINTS_PER_FLUSH ordinary points and every anomalous one, in time order. */
export function pointsToSend(points: SeriesPoint[]): SeriesPoint[] {
  if (points.length <= SERIES_POINTS_PER_FLUSH) return points;
  let ordinaryLeft = SERIES_POINTS_PER_FLUSH;
  const kept: SeriesPoint[] = [];
  for (let i = points.length - 1; i >= 0; i--) {
    const point = points[i]!;
    if (point.anomalous) kept.push(point);
    else if (ordinaryLeft > 0) {
      kept.push(point);
      ordinaryLeft--;
    }
  }
  return kept.reverse();
}

/** How often buffered points go to Redis: the console polls every 2 s, so a second is soon enough. */
export const SERIES_POINTS_FLUSH_MS = 1_000;

interface Buffered {
  streamName: string;
  trail: SeriesTrail;
}

/**
 * Buffers committed batches' points and writes them at most once every
 * SERIES_POINTS_FLUSH_MS, in one pipelined round trip: a worker scoring
 * tens of thousands of events a second then sends a few commands per series
 * per second, not per batch (per batch it cost about 14 % of the worker's
 * CPU, bench:cost). Thinning to one point per second (series-trail.ts)
 * carries across batches in the buffer. record() never waits; a failure is
 * logged (at most every FAILURE_REPORT_MS, with how many writes failed since)
 * and counted (vigil_processing_errors{stage="series_points"}), never thrown.
 * Points that could not be sent (Redis away, too slow, or refusing) stay in
 * the buffer for the next flush, under the same bounds: sending a point twice
 * is harmless, a sorted set holds each member once.
 */
export class SeriesPointsRecorder {
  private readonly pending = new Set<Promise<void>>();
  private buffer = new Map<string, Buffered>();
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastReport = 0;
  /** Set by settled(): from then on nothing is kept for a later flush. */
  private closing = false;

  constructor(
    private readonly redis: Pick<Redis, 'pipeline' | 'status'>,
    private readonly log: Logger,
    private readonly flushMs = SERIES_POINTS_FLUSH_MS,
  ) {}

  record(streamName: string, trails: SeriesTrails): void {
    if (trails.size === 0) return;
    for (const trail of trails) this.keep(streamName, trail.detectorId, trail.seriesKey, trail.points);
    this.schedule();
  }

  /** Adds points after those buffered for the series, thinned and bounded as they go. */
  private keep(streamName: string, detectorId: string, seriesKey: string | null, incoming: SeriesPoint[]): void {
    const key = seriesPointsKey(detectorId, seriesKey);
    let held = this.buffer.get(key);
    if (held === undefined) {
      held = { streamName, trail: { detectorId, seriesKey, points: [] } };
      this.buffer.set(key, held);
    }
    const points = held.trail.points;
    for (const point of incoming) appendThinned(points, point);
    // Only pointsToSend's will be sent: keep no more than twice as many meanwhile.
    if (points.length > 2 * SERIES_POINTS_PER_FLUSH) held.trail.points = pointsToSend(points);
    if (held.trail.points.length > SERIES_POINTS_KEPT) held.trail.points.splice(0, held.trail.points.length - SERIES_POINTS_KEPT);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closing) return;
    this.timer = setTimeout(() => this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** Writes what is buffered now and resolves once every write under way has landed or failed (at shutdown, and for tests). */
  async settled(): Promise<void> {
    this.closing = true;
    this.flush();
    await Promise.all([...this.pending]);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.size === 0) return;
    const streamName = this.buffer.values().next().value!.streamName;
    if (this.redis.status !== 'ready' || this.pending.size >= MAX_PENDING_WRITES) {
      this.failed(streamName, new Error(this.redis.status !== 'ready' ? `redis is ${this.redis.status}` : 'too many series point writes in flight'));
      this.schedule();
      return;
    }
    const batch = this.buffer;
    this.buffer = new Map();
    let write: Promise<void>;
    try {
      write = this.write(batch);
    } catch (error) {
      write = Promise.reject(error);
    }
    const settled: Promise<void> = write
      .catch((error: unknown) => {
        this.failed(streamName, error);
        this.putBack(batch);
      })
      .finally(() => {
        this.pending.delete(settled);
      });
    this.pending.add(settled);
  }

  /** A batch that was not written goes back in front of what was buffered since, for the next flush. */
  private putBack(batch: Map<string, Buffered>): void {
    const since = this.buffer;
    this.buffer = new Map();
    for (const { streamName, trail } of batch.values()) this.keep(streamName, trail.detectorId, trail.seriesKey, trail.points);
    for (const { streamName, trail } of since.values()) this.keep(streamName, trail.detectorId, trail.seriesKey, trail.points);
    this.schedule();
  }

  private async write(batch: Map<string, Buffered>): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const [key, { trail }] of batch) {
      const args: (number | string)[] = [];
      for (const point of pointsToSend(trail.points)) args.push(point.at, encode(point));
      pipeline.zadd(key, ...args);
      pipeline.zremrangebyrank(key, 0, -SERIES_POINTS_KEPT - 1);
      pipeline.pexpire(key, SERIES_POINTS_TTL_MS);
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  }

  private failed(streamName: string, error: unknown): void {
    recordProcessingError(streamName, 'series_points');
    this.failures++;
    const now = Date.now();
    if (now - this.lastReport < FAILURE_REPORT_MS) return;
    this.log.warn({ err: error, failures: this.failures, stream: streamName }, 'series points not recorded yet (kept for the next flush; detection goes on)');
    this.failures = 0;
    this.lastReport = now;
  }
}
