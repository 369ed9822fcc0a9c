import { useState } from 'preact/hooks';
import { INCIDENTS, LIVE_INCIDENT, STREAM_NAMES } from '../api/documents.ts';
import { time } from '../format.ts';
import { allPages, useQuery } from '../hooks/use-query.ts';
import { useSubscription } from '../hooks/use-subscription.ts';
import { href } from '../router.ts';
import type { IncidentStatus, IncidentSummary, Severity } from '../types.ts';
import { ErrorNotice } from './error-notice.tsx';

type Page = { incidents: { edges: { node: IncidentSummary }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
const STATUSES: IncidentStatus[] = ['OPEN', 'ACKNOWLEDGED', 'RESOLVED'];
const SEVERITIES: Severity[] = ['INFO', 'WARNING', 'CRITICAL'];

/** Incidents newest first, filtered by status, minimum severity and stream; changes arrive live. */
export function IncidentsPage() {
  const [status, setStatus] = useState<IncidentStatus | ''>('');
  const [minSeverity, setMinSeverity] = useState<Severity | ''>('');
  const [streamId, setStreamId] = useState('');
  const filter = { ...(status ? { status: [status] } : {}), ...(minSeverity ? { minSeverity } : {}), ...(streamId ? { streamId } : {}) };
  const streams = useQuery<{ streams: { edges: { node: { id: string; name: string } }[] } }>(STREAM_NAMES, {});
  const incidents = useQuery(INCIDENTS, { filter }, () => allPages(INCIDENTS, { filter }, (d: Page) => d.incidents));
  useSubscription(LIVE_INCIDENT, { filter }, () => incidents.reload());
  // The API pages oldest first; the console shows the newest first.
  const rows = [...(incidents.data ?? [])].reverse();
  return (
    <section class="panel">
      <h1>Incidents</h1>
      <div class="filters">
        <label>
          Status{' '}
          <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value as IncidentStatus | '')}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Severity at least{' '}
          <select name="severity" value={minSeverity} onChange={(e) => setMinSeverity(e.currentTarget.value as Severity | '')}>
            <option value="">any</option>
            {SEVERITIES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Stream{' '}
          <select name="stream" value={streamId} onChange={(e) => setStreamId(e.currentTarget.value)}>
            <option value="">any</option>
            {streams.data?.streams.edges.map(({ node }) => (
              <option key={node.id} value={node.id}>
                {node.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNotice error={incidents.error} />
      {incidents.data && rows.length === 0 && <p class="muted">No incident matches.</p>}
      {rows.length > 0 && (
        <table class="grid" data-testid="incidents">
          <thead>
            <tr>
              <th>Opened</th>
              <th>Title</th>
              <th>Stream</th>
              <th>Severity</th>
              <th>Status</th>
              <th class="num">Anomalies</th>
              <th>Resolved</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((i) => (
              <tr key={i.id}>
                <td>{time(i.openedAt)}</td>
                <td>
                  <a href={href.incident(i.id)}>{i.title}</a>
                </td>
                <td>{i.stream.name}</td>
                <td>
                  <span class={`pill sev-${i.severity.toLowerCase()}`}>{i.severity}</span>
                </td>
                <td>{i.status}</td>
                <td class="num">{i.anomalyCount}</td>
                <td>{time(i.resolvedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
