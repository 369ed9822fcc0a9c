import type { LastEvent } from './partition-state.ts';

/**
 * What a DetectorCheckpoint row's `state` holds:
 *
 *     { "format": 2, "series": { <slot>: <model state> }, "sources": { <slot>: <last event> } }
 *
 * `sources` is kept for time-driven detectors (FRESHNESS): the latest event
 * of each series, which a silence anomaly names as its source. Without it a
 * series not heard from since a worker restored the partition could never be
 * reported silent. Rows written before this format hold the `series` map
 * alone; they still load (with no sources). A slot's model state is always
 * an object, so a top-level numeric `format` tells the two apart.
 */
export const CHECKPOINT_FORMAT = 2;

export interface CheckpointContent {
  series: Record<string, unknown>;
  sources: Record<string, LastEvent>;
}

/** The JSON to store. Offsets (bigint) become decimal strings. */
export function encodeCheckpoint(series: Record<string, unknown>, sources: Record<string, LastEvent> = {}): unknown {
  const encoded: Record<string, unknown> = {};
  for (const [slot, event] of Object.entries(sources)) encoded[slot] = { ...event, offset: event.offset.toString() };
  return { format: CHECKPOINT_FORMAT, series, sources: encoded };
}

/** A stored checkpoint read back; a source that does not have the shape of an event is dropped (its series then waits for a new event). */
export function decodeCheckpoint(saved: unknown): CheckpointContent {
  if (!isObject(saved)) return { series: {}, sources: {} };
  if (saved.format !== CHECKPOINT_FORMAT) return { series: saved, sources: {} };
  const series = isObject(saved.series) ? saved.series : {};
  const sources: Record<string, LastEvent> = {};
  if (isObject(saved.sources)) {
    for (const [slot, raw] of Object.entries(saved.sources)) {
      const event = decodeEvent(raw);
      if (event) sources[slot] = event;
    }
  }
  return { series, sources };
}

function decodeEvent(raw: unknown): LastEvent | undefined {
  if (!isObject(raw) || typeof raw.offset !== 'string' || !/^\d+$/.test(raw.offset)) return undefined;
  const { key, seriesKey, value, eventTime, kafkaTime, schemaVersion, traceparent } = raw;
  if (!nullableString(key) || !nullableString(seriesKey) || !nullableString(traceparent)) return undefined;
  if (!finite(value) || !finite(eventTime) || !finite(kafkaTime) || !finite(schemaVersion)) return undefined;
  return { offset: BigInt(raw.offset), key, seriesKey, value, eventTime, kafkaTime, schemaVersion, traceparent };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
