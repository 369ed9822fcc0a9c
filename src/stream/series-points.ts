import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { recordProcessingError } from '../telemetry/metrics.ts';
import type { SeriesPoint, SeriesTrails } from './series-trail.ts';

/**
 * Recent scored points of each detector's series, kept in Redis for the
 * console's chart (the seriesPoints query): a sorted set per detector and
 * series, scored by event time, holding the last SERIES_POINTS_KEPT points
 * for about a day after the series last scored. It is not of record (an
 * anomaly is, in PostgreSQL): a write that fails loses those points, and
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
 * Writes a committed batch's points in one pipelined round trip, without
 * holding the batch: record() returns at once; a failure is logged (at most
 * every FAILURE_REPORT_MS, with how many writes failed since) and counted
 * (vigil_processing_errors{stage="series_points"}), never thrown.
 */
export class SeriesPointsRecorder {
  private readonly pending = new Set<Promise<void>>();
  private failures = 0;
  private lastReport = 0;

  constructor(
    private readonly redis: Pick<Redis, 'pipeline' | 'status'>,
    private readonly log: Logger,
  ) {}

  record(streamName: string, trails: SeriesTrails): void {
    if (trails.size === 0) return;
    if (this.redis.status !== 'ready' || this.pending.size >= MAX_PENDING_WRITES) {
      this.failed(streamName, new Error(this.redis.status !== 'ready' ? `redis is ${this.redis.status}` : 'too many series point writes in flight'));
      return;
    }
    let write: Promise<void>;
    try {
      write = this.write(trails);
    } catch (error) {
      write = Promise.reject(error);
    }
    const settled: Promise<void> = write
      .catch((error: unknown) => this.failed(streamName, error))
      .finally(() => {
        this.pending.delete(settled);
      });
    this.pending.add(settled);
  }

  /** Resolves once the writes under way have landed or failed (at shutdown, and for tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private async write(trails: SeriesTrails): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const trail of trails) {
      const key = seriesPointsKey(trail.detectorId, trail.seriesKey);
      const points = trail.points.length > SERIES_POINTS_KEPT ? trail.points.slice(-SERIES_POINTS_KEPT) : trail.points;
      const args: (number | string)[] = [];
      for (const point of points) args.push(point.at, encode(point));
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
    this.log.warn({ err: error, failures: this.failures, stream: streamName }, 'series points not recorded (the chart misses them; detection goes on)');
    this.failures = 0;
    this.lastReport = now;
  }
}
