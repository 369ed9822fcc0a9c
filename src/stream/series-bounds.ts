import type { DetectorPartitionState } from './partition-state.ts';

/**
 * What a worker holds per series is bounded: a series key longer than
 * `maxKeyLength` characters makes its event a dead letter before detection
 * (VIGIL_MAX_KEY_LENGTH), and a detector's state on one partition holds at
 * most `maxSeriesPerDetector` series (VIGIL_MAX_SERIES_PER_DETECTOR); events
 * of series beyond it are counted, not scored. See docs/faults.md, "Bounded state".
 */
export interface SeriesBounds {
  maxKeyLength: number;
  maxSeriesPerDetector: number;
}

export const DEFAULT_MAX_KEY_LENGTH = 256;
export const DEFAULT_MAX_SERIES_PER_DETECTOR = 100_000;
export const DEFAULT_SERIES_BOUNDS: SeriesBounds = {
  maxKeyLength: DEFAULT_MAX_KEY_LENGTH,
  maxSeriesPerDetector: DEFAULT_MAX_SERIES_PER_DETECTOR,
};

/** The dead-letter reason for a series key over the limit, or null when it fits. Characters are Unicode code points. */
export function seriesKeyTooLong(seriesKey: string, maxKeyLength: number): string | null {
  // A string has at least as many UTF-16 units as code points: only a long one needs counting.
  if (seriesKey.length <= maxKeyLength) return null;
  let characters = 0;
  for (const _ of seriesKey) characters++;
  if (characters <= maxKeyLength) return null;
  return `series key is ${characters} characters; the limit is ${maxKeyLength} (VIGIL_MAX_KEY_LENGTH)`;
}

/**
 * Series counts beside each detector's series object, so the cap costs O(1)
 * per event rather than a count of up to 100,000 keys. Keyed by the object
 * itself: a state restored from a checkpoint is a new object, counted once.
 */
const seriesCounts = new WeakMap<Record<string, unknown>, number>();

function seriesCount(entry: DetectorPartitionState): number {
  let count = seriesCounts.get(entry.series);
  if (count === undefined) {
    count = Object.keys(entry.series).length;
    seriesCounts.set(entry.series, count);
  }
  return count;
}

/**
 * The state of series `slot`, created by `newState` if the detector holds
 * fewer than `maxSeries` series on this partition; undefined when the series
 * is new and the cap is reached: it is not tracked.
 */
export function admitSeries(entry: DetectorPartitionState, slot: string, maxSeries: number, model: { newState(): unknown }): unknown {
  // Own properties only: a series keyed "__proto__" or "toString" must get a state of its own, not Object.prototype's.
  if (Object.hasOwn(entry.series, slot)) return entry.series[slot];
  const count = seriesCount(entry);
  if (count >= maxSeries) return undefined;
  const created = model.newState();
  Object.defineProperty(entry.series, slot, { value: created, enumerable: true, writable: true, configurable: true });
  seriesCounts.set(entry.series, count + 1);
  return created;
}

/** Forgets one series (its next event starts it afresh), keeping the count right. */
export function forgetSeries(entry: DetectorPartitionState, slot: string): void {
  if (!Object.hasOwn(entry.series, slot)) return;
  const count = seriesCount(entry);
  delete entry.series[slot];
  seriesCounts.set(entry.series, count - 1);
}
