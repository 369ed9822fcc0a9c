import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { NEWEST_ANOMALY_SERIES } from '../api/documents.ts';
import { gql } from '../api/http.ts';
import { number, time } from '../format.ts';
import { useQuery } from '../hooks/use-query.ts';
import { useSeriesPoints } from '../hooks/use-series-points.ts';
import type { Detector, SeriesPoint } from '../types.ts';

const HEIGHT = 260;
/** The shortest span the x axis shows: a few points sit in a minute, not in uPlot's guess of years. */
const MIN_SPAN_S = 60;

function columns(points: SeriesPoint[]): uPlot.AlignedData {
  return [
    points.map((p) => Date.parse(p.at) / 1000),
    points.map((p) => p.value),
    points.map((p) => p.expected),
    points.map((p) => p.lower),
    points.map((p) => p.upper),
    points.map((p) => (p.anomalous ? p.value : null)),
  ];
}

/** From the oldest point to the newest, at least MIN_SPAN_S, with a little air on both sides. Set by hand: uPlot widens a lone point's axis to years. */
function timeRange(times: number[]): { min: number; max: number } {
  const max = times[times.length - 1] ?? Date.now() / 1000;
  const min = Math.min(times[0] ?? max, max - MIN_SPAN_S);
  const air = (max - min) * 0.03;
  return { min: min - air, max: max + air };
}

function options(width: number): uPlot.Options {
  return {
    width,
    height: HEIGHT,
    scales: { x: { time: true, auto: false } },
    // UTC like every other time on the console's pages.
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
    series: [
      {},
      { label: 'value', stroke: '#2b2b2b', width: 1.5, points: { size: 4 } },
      { label: 'expected', stroke: '#3a6ea5', width: 1.5, points: { show: false } },
      { label: 'lower', stroke: '#5b8ec7', width: 1.5, dash: [6, 4], points: { show: false } },
      { label: 'upper', stroke: '#5b8ec7', width: 1.5, dash: [6, 4], points: { show: false } },
      // Markers only: no line joins anomalies.
      { label: 'anomaly', stroke: '#d6453d', fill: '#d6453d', paths: () => null, points: { show: true, size: 9, fill: '#d6453d' } },
    ],
    bands: [{ series: [4, 3], fill: 'rgba(58,110,165,0.12)' }],
    axes: [{}, { size: 60 }],
  };
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

type NewestAnomaly = { anomalies: { edges: { node: { seriesKey: string | null } }[] } };
/** Nothing to ask the API when the series is known without it. */
const NO_ANOMALY: Promise<NewestAnomaly> = Promise.resolve({ anomalies: { edges: [] } });

/**
 * Which series the chart shows: the one typed in, else (on a keyed stream)
 * the one of the detector's newest anomaly; null is the series of events
 * without a key; undefined: none to show yet.
 */
function useChosenSeries(detectorId: string, keyField: string | null, typed: string): string | null | undefined {
  const keyed = keyField !== null && typed === '';
  const filter = { detectorId };
  const newest = useQuery<NewestAnomaly>(NEWEST_ANOMALY_SERIES, { filter, keyed }, () => (keyed ? gql<NewestAnomaly>(NEWEST_ANOMALY_SERIES, { filter }) : NO_ANOMALY));
  if (keyField === null) return null;
  if (typed !== '') return typed;
  return newest.data?.anomalies.edges[0]?.node.seriesKey ?? undefined;
}

/**
 * A detector's series as it scored it, live: each value against the expected
 * value and band the detector had at that moment, anomalies marked. The
 * points come from seriesPoints (best effort: about one a second, the last
 * 720), read again every 2 s while the page is visible.
 */
export function SeriesChart({ detector, keyField, typedKey }: { detector: Detector; keyField: string | null; typedKey: string }) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const seriesKey = useChosenSeries(detector.id, keyField, typedKey.trim());
  const { points, error } = useSeriesPoints(detector.id, seriesKey);

  useEffect(() => {
    if (!holder.current) return undefined;
    const chart = new uPlot(options(holder.current.clientWidth || 800), columns([]), holder.current);
    plot.current = chart;
    const resize = () => holder.current && chart.setSize({ width: holder.current.clientWidth, height: HEIGHT });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      chart.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    const data = columns(points);
    plot.current?.setData(data);
    plot.current?.setScale('x', timeRange(data[0] as number[]));
  }, [points]);

  const anomalies = points.filter((p) => p.anomalous).length;
  const last = points[points.length - 1];
  const series = seriesKey === null ? 'the series without a key' : seriesKey === undefined ? null : `${keyField} ${seriesKey}`;
  return (
    <div class="chart" data-testid="series-chart" data-points={points.length} data-anomalies={anomalies}>
      <div ref={holder} />
      <p class="muted small">
        {series === null ? (
          <>No anomaly to open on yet: type a {keyField} above to see its series.</>
        ) : (
          <>
            {plural(points.length, 'point', 'points')} of {detector.name} (v{detector.version}, {detector.kind}) for {series},{' '}
            {plural(anomalies, 'anomaly', 'anomalies')} marked
            {last && (
              <>
                {' '}
                · latest {time(last.at)}: {number(last.value, 2)} (expected {number(last.expected, 2)}, band {number(last.lower, 2)} – {number(last.upper, 2)})
              </>
            )}
          </>
        )}
        {error && <span class="error"> · not refreshed: {error.message}</span>}
      </p>
    </div>
  );
}
