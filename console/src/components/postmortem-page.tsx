import { POSTMORTEM } from '../api/documents.ts';
import { duration, time } from '../format.ts';
import { useQuery } from '../hooks/use-query.ts';
import { href } from '../router.ts';
import type { Postmortem } from '../types.ts';
import { ErrorNotice } from './error-notice.tsx';

/** Offers the API's Markdown as a file, byte for byte. */
function download(markdown: string, incidentId: string) {
  const url = URL.createObjectURL(new Blob([markdown], { type: 'text/markdown' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `postmortem-${incidentId}.md`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The generated postmortem of a resolved incident (the `postmortem` query), downloadable as Markdown. */
export function PostmortemPage({ id }: { id: string }) {
  const page = useQuery<{ postmortem: Postmortem }>(POSTMORTEM, { id });
  if (page.error) return <ErrorNotice error={page.error} />;
  if (!page.data) return <p class="muted">Writing the postmortem…</p>;
  const pm = page.data.postmortem;
  const first = pm.firstAnomaly;
  return (
    <article class="postmortem panel">
      <header class="page-head">
        <h1>Postmortem: {pm.incident.title}</h1>
        <a href={href.incident(id)}>back to the incident</a>
        <button class="primary" onClick={() => download(pm.markdown, id)}>
          Download Markdown
        </button>
      </header>
      <h2>Summary</h2>
      <p data-testid="pm-summary">{pm.summary}</p>
      <ul class="facts">
        <li>Started {time(pm.startedAt)}</li>
        <li>Resolved {time(pm.resolvedAt)}</li>
        <li>Lasted {duration(pm.durationSeconds)}</li>
        <li>
          {pm.anomalyCount} anomalies in {pm.seriesAffected.length} series ({pm.seriesAffected.join(', ')})
        </li>
      </ul>
      <h2>Timeline</h2>
      <table class="grid" data-testid="pm-timeline">
        <tbody>
          {pm.timeline.map((e, i) => (
            <tr key={i}>
              <td class="small">{time(e.at)}</td>
              <td>
                <span class={`pill src-${e.source.toLowerCase()}`}>{e.source}</span>
              </td>
              <td>{e.message}</td>
              <td class="muted">{e.actor ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Lineage of the first anomaly</h2>
      {first ? (
        <p>
          {first.explanation} — topic {first.source.topic}, partition {first.source.partition}, offset {first.source.offset}; detector {first.detector.name} v
          {first.detectorVersion}; trace {first.traceId ?? '—'}
        </p>
      ) : (
        <p class="muted">No anomaly recorded.</p>
      )}
      <h2>Remediation</h2>
      {pm.remediation.length === 0 && <p class="muted">No runbook ran.</p>}
      <ul>
        {pm.remediation.map((e) => (
          <li key={e.id}>
            {e.runbook.name}: {e.status}, {e.verified === null ? 'not verified' : e.verified ? 'verified' : 'verification failed'}
          </li>
        ))}
      </ul>
      <h2>Open questions</h2>
      <ul class="questions">
        {pm.openQuestions.map((q) => (
          <li key={q}>{q}</li>
        ))}
      </ul>
    </article>
  );
}
