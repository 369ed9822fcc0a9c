import type { Verdict } from '../detectors/detector.ts';

/** One scored event of a series as its detector saw it: the value against the expected value and band of that moment. */
export interface SeriesPoint {
  /** Event time, epoch ms. */
  at: number;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  anomalous: boolean;
}

/** The points a batch kept for one detector and series. */
export interface SeriesTrail {
  detectorId: string;
  seriesKey: string | null;
  points: SeriesPoint[];
}

/** An anomalous point is never overwritten: each one stays, beside the last ordinary point of its second. */
function sameOrdinarySecond(last: SeriesPoint, at: number): boolean {
  return !last.anomalous && Math.floor(last.at / 1000) === Math.floor(at / 1000);
}

/** Adds `point` to `points` under the same thinning as SeriesTrails.note (for points already noted, e.g. of the next batch). */
export function appendThinned(points: SeriesPoint[], point: SeriesPoint): void {
  const last = points[points.length - 1];
  if (last !== undefined && sameOrdinarySecond(last, point.at)) points[points.length - 1] = point;
  else points.push(point);
}

/**
 * The scored points of a batch, per detector and series, thinned as they
 * come: at most one point per second of event time (the last one of that
 * second) plus every anomalous point. A chart at one point per second needs
 * no more, and a busy series at thousands of events per second then costs
 * one object per second, not one per event: a point of the same second is
 * overwritten in place.
 */
export class SeriesTrails {
  private readonly byDetector = new Map<string, Map<string | null, SeriesTrail>>();
  private count = 0;

  note(detectorId: string, seriesKey: string | null, at: number, value: number, verdict: Verdict): void {
    let bySeries = this.byDetector.get(detectorId);
    if (bySeries === undefined) {
      bySeries = new Map();
      this.byDetector.set(detectorId, bySeries);
    }
    let trail = bySeries.get(seriesKey);
    if (trail === undefined) {
      trail = { detectorId, seriesKey, points: [] };
      bySeries.set(seriesKey, trail);
    }
    const points = trail.points;
    const last = points[points.length - 1];
    if (last !== undefined && sameOrdinarySecond(last, at)) {
      last.at = at;
      last.value = value;
      last.expected = verdict.expected;
      last.lower = verdict.lower;
      last.upper = verdict.upper;
      last.anomalous = verdict.anomalous;
      return;
    }
    points.push({ at, value, expected: verdict.expected, lower: verdict.lower, upper: verdict.upper, anomalous: verdict.anomalous });
    this.count++;
  }

  /** How many points are kept (after thinning). */
  get size(): number {
    return this.count;
  }

  *[Symbol.iterator](): IterableIterator<SeriesTrail> {
    for (const bySeries of this.byDetector.values()) yield* bySeries.values();
  }
}
