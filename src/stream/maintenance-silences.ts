/** A silence as the worker matches it: plain numbers, loaded with the catalog. */
export interface SilenceSpec {
  id: string;
  /** null: every detector of the stream. */
  detectorId: string | null;
  /** null: every series. */
  seriesKey: string | null;
  startsMs: number;
  endsMs: number;
}

/** A stored silence as the matcher takes it. */
export function silenceSpecOf(row: { id: string; detectorId: string | null; seriesKey: string | null; startsAt: Date; endsAt: Date }): SilenceSpec {
  return { id: row.id, detectorId: row.detectorId, seriesKey: row.seriesKey, startsMs: row.startsAt.getTime(), endsMs: row.endsAt.getTime() };
}

/**
 * Silences are kept in the catalog this long after they end, so an event that
 * arrives late (its event time inside a window that has closed) is still silenced.
 */
export const LATE_EVENT_MS = 7 * 24 * 3600 * 1000;

/**
 * The silence an anomaly falls in: the first (oldest) covering its detector
 * and series whose window holds its event time, or null. Matched by event time,
 * not the clock, so a replay of the window, or a lagging consumer, silences the same anomalies.
 */
export function silenceFor(silences: readonly SilenceSpec[] | undefined, detectorId: string, seriesKey: string | null, eventTimeMs: number): string | null {
  if (!silences) return null;
  for (const silence of silences) {
    if (eventTimeMs < silence.startsMs || eventTimeMs >= silence.endsMs) continue;
    if (silence.detectorId !== null && silence.detectorId !== detectorId) continue;
    if (silence.seriesKey !== null && silence.seriesKey !== seriesKey) continue;
    return silence.id;
  }
  return null;
}

/**
 * What Vigil's self-monitoring stream takes from the streams it watches: a
 * silence of a whole stream (every detector, every series) also covers the
 * self-monitoring series about that stream (keyed by its id), so a maintenance
 * window pages nobody about the pipeline it stops either. Oldest first, as silenceFor expects.
 */
export function pipelineSilences(own: readonly SilenceSpec[], watched: readonly { id: string; silences: readonly SilenceSpec[] }[]): SilenceSpec[] {
  const taken = watched.flatMap((stream) =>
    stream.silences.filter((s) => s.detectorId === null && s.seriesKey === null).map((s) => ({ ...s, seriesKey: stream.id })),
  );
  return [...own, ...taken].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
