import { useState } from 'preact/hooks';
import { STREAM_PAGE } from '../api/documents.ts';
import { useQuery } from '../hooks/use-query.ts';
import type { DeadLetter, Detector, Role, SettingGuide, Sla, StreamSummary } from '../types.ts';
import { DeadLettersTable } from './dead-letters-table.tsx';
import { DetectorsTable } from './detectors-table.tsx';
import { ErrorNotice } from './error-notice.tsx';
import { LiveFeed } from './live-feed.tsx';
import { SeriesChart } from './series-chart.tsx';
import { SilenceList } from './silences.tsx';
import { SlasTable } from './slas-table.tsx';
import { StreamControls } from './stream-controls.tsx';

interface StreamData {
  stream: (StreamSummary & { detectors: Detector[]; slas: Sla[] }) | null;
  deadLetters: { edges: { node: DeadLetter }[] };
  detectorKinds: { kind: string; settings: SettingGuide[] }[];
}

/** One stream: a live chart of a detector's series, its detectors, SLAs, dead letters and controls. */
export function StreamPage({ id, role }: { id: string; role: Role }) {
  const page = useQuery<StreamData>(STREAM_PAGE, { id });
  const stream = page.data?.stream;
  const detectors = stream?.detectors.filter((d) => d.mode !== 'DISABLED') ?? [];
  const [detectorId, setDetectorId] = useState<string | null>(null);
  const [seriesKey, setSeriesKey] = useState('');
  const chosen = detectors.find((d) => d.id === detectorId) ?? detectors[0];

  if (page.error && !stream) return <ErrorNotice error={page.error} />;
  if (!page.data) return <p class="muted">Loading…</p>;
  if (!stream) return <p class="error">No stream with id {id}.</p>;
  return (
    <div class="stream-page">
      <header class="page-head">
        <h1>{stream.name}</h1>
        <span class={`pill ${stream.status === 'ACTIVE' ? 'ok' : 'degraded'}`} data-testid="stream-status">
          {stream.status}
        </span>
        <span class="muted">
          topic {stream.topic} · {stream.partitions} partition(s) · schema v{stream.schemaVersion}
          {stream.keyField ? ` · series by ${stream.keyField}` : ''}
        </span>
        <StreamControls stream={stream} role={role} onChange={page.reload} />
      </header>
      <p class="muted" data-testid="stream-workers">
        {stream.health.workers?.length
          ? `Read by ${stream.health.workers.map((w) => `${w.id} (partition${w.partitions.length > 1 ? 's' : ''} ${w.partitions.join(', ')})`).join(', ')}.`
          : 'No worker process holds its partitions now.'}
      </p>
      <section class="panel">
        <h2>Series</h2>
        {chosen ? (
          <>
            <div class="chart-controls">
              <label>
                Detector{' '}
                <select value={chosen.id} onChange={(e) => setDetectorId(e.currentTarget.value)}>
                  {detectors.map((d) => (
                    <option key={d.id} value={d.id}>
                      {d.name} ({d.field})
                    </option>
                  ))}
                </select>
              </label>
              {stream.keyField && (
                <label>
                  {stream.keyField}{' '}
                  <input placeholder="newest anomaly's" value={seriesKey} onChange={(e) => setSeriesKey(e.currentTarget.value)} />
                </label>
              )}
            </div>
            <SeriesChart detector={chosen} keyField={stream.keyField} typedKey={seriesKey} />
          </>
        ) : (
          <p class="muted">No active detector: register one with registerDetector to see its series.</p>
        )}
      </section>
      <div class="two">
        <section class="panel">
          <h2>Detectors</h2>
          <DetectorsTable detectors={stream.detectors} guide={Object.fromEntries(page.data.detectorKinds.map((k) => [k.kind, k.settings]))} />
          <h2>SLAs</h2>
          <SlasTable slas={stream.slas} />
          <h2>Silences</h2>
          <SilenceList streamId={stream.id} role={role} detectors={stream.detectors} keyField={stream.keyField} />
        </section>
        <section class="panel feed-panel">
          <h2>Live anomalies on this stream</h2>
          <LiveFeed filter={{ streamId: stream.id }} />
        </section>
      </div>
      <section class="panel">
        <h2>Dead letters</h2>
        <DeadLettersTable deadLetters={page.data.deadLetters.edges.map((e) => e.node)} role={role} onChange={page.reload} />
      </section>
    </div>
  );
}
