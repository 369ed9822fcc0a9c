import { INCIDENT_PAGE, LIVE_EXECUTIONS, LIVE_INCIDENT, MUTATIONS } from '../api/documents.ts';
import { allows, time } from '../format.ts';
import { useQuery } from '../hooks/use-query.ts';
import { useSubscription } from '../hooks/use-subscription.ts';
import { href } from '../router.ts';
import type { IncidentDetail, Role } from '../types.ts';
import { ActionButton } from './action-button.tsx';
import { AnomalyCard } from './anomaly-card.tsx';
import { ErrorNotice } from './error-notice.tsx';
import { ExecutionCard } from './execution-card.tsx';
import { TriggerRunbook } from './trigger-runbook.tsx';

/** One incident: its actions, timeline, anomalies with lineage, and runbook executions with their steps. */
export function IncidentPage({ id, role, me }: { id: string; role: Role; me: string }) {
  const page = useQuery<{ incident: IncidentDetail | null }>(INCIDENT_PAGE, { id });
  const incident = page.data?.incident;
  // Any change to this incident or its executions (by anyone) reloads the page's data.
  useSubscription<{ id: string }>(LIVE_INCIDENT, {}, (changed) => changed.id === id && page.reload());
  useSubscription<{ incident: { id: string } | null }>(LIVE_EXECUTIONS, {}, (changed) => changed.incident?.id === id && page.reload());

  if (page.error && !incident) return <ErrorNotice error={page.error} />;
  if (!page.data) return <p class="muted">Loading…</p>;
  if (!incident) return <p class="error">No incident with id {id}.</p>;
  const operator = allows(role, 'OPERATOR');
  return (
    <div class="incident-page">
      <header class="page-head">
        <h1>{incident.title}</h1>
        <span class={`pill sev-${incident.severity.toLowerCase()}`}>{incident.severity}</span>
        <span class="pill" data-testid="incident-status">
          {incident.status}
        </span>
        <span class="muted">
          on <a href={href.stream(incident.stream.id)}>{incident.stream.name}</a> · opened {time(incident.openedAt)} · {incident.anomalyCount} anomalies
        </span>
        <div class="controls" data-testid="incident-actions">
          {operator && incident.status === 'OPEN' && (
            <ActionButton label="Acknowledge" kind="primary" mutation={MUTATIONS.acknowledge} variables={{ id }} onDone={page.reload} />
          )}
          {operator && incident.status !== 'RESOLVED' && (
            <ActionButton label="Resolve" mutation={MUTATIONS.resolve} variables={{ id }} onDone={page.reload} confirm="Resolve this incident?" />
          )}
          {incident.status === 'RESOLVED' && (
            <a class="button" href={href.postmortem(id)}>
              Postmortem
            </a>
          )}
        </div>
      </header>
      <div class="two">
        <section class="panel">
          <h2>Timeline</h2>
          <ol class="timeline" data-testid="timeline">
            {incident.timeline.map((e, i) => (
              <li key={i}>
                <span class="muted small">{time(e.at)}</span> <strong>{e.kind}</strong> {e.message}
                {e.actor && <span class="muted"> — {e.actor}</span>}
              </li>
            ))}
          </ol>
          <h2>Runbook executions</h2>
          {operator && <TriggerRunbook incidentId={id} onDone={page.reload} />}
          {incident.executions.length === 0 && <p class="muted">No runbook ran.</p>}
          {incident.executions.map((e) => (
            <ExecutionCard key={e.id} execution={e} role={role} me={me} onChange={page.reload} />
          ))}
        </section>
        <section class="panel">
          <h2>Anomalies</h2>
          {incident.anomalies.edges.map(({ node }) => (
            <AnomalyCard key={node.id} anomaly={node} role={role} onChange={page.reload} />
          ))}
        </section>
      </div>
    </div>
  );
}
