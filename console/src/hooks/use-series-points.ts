import { useEffect, useState } from 'preact/hooks';
import { SERIES_POINTS } from '../api/documents.ts';
import { gql } from '../api/http.ts';
import type { SeriesPoint } from '../types.ts';

/** How often the chart reads the series again while the page is visible: the workers keep about one point a second. */
const POLL_MS = 2_000;
/** The most the API keeps per series (seriesPoints `last`). */
const LAST = 720;

export interface SeriesPoints {
  points: SeriesPoint[];
  error: Error | null;
}

/**
 * The newest points of a detector's series, read again every POLL_MS while
 * the page is visible (a hidden tab costs the API nothing) and at once when
 * it shows again. `seriesKey` undefined: no series chosen yet, nothing read.
 */
export function useSeriesPoints(detectorId: string, seriesKey: string | null | undefined): SeriesPoints {
  const [state, setState] = useState<SeriesPoints>({ points: [], error: null });
  useEffect(() => {
    setState({ points: [], error: null });
    if (seriesKey === undefined) return undefined;
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reading = false;
    // One chain of reads: a hidden page ends it, showing the page again starts it.
    const read = async () => {
      if (reading || document.visibilityState !== 'visible') return;
      clearTimeout(timer);
      reading = true;
      try {
        const { seriesPoints } = await gql<{ seriesPoints: SeriesPoint[] }>(SERIES_POINTS, { detectorId, seriesKey, last: LAST });
        if (current) setState({ points: seriesPoints, error: null });
      } catch (error) {
        if (current) setState((s) => ({ points: s.points, error: error as Error }));
      } finally {
        reading = false;
      }
      if (current) timer = setTimeout(() => void read(), POLL_MS);
    };
    const onVisibility = () => void read();
    document.addEventListener('visibilitychange', onVisibility);
    void read();
    return () => {
      current = false;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [detectorId, seriesKey]);
  return state;
}
