import { LINEAGE, MUTATIONS } from '../api/documents.ts';
import { allows, number, time } from '../format.ts';
import { useQuery } from '../hooks/use-query.ts';
import type { Anomaly, Role } from '../types.ts';
import { ActionButton } from './action-button.tsx';
import { SilencedPill } from './silences.tsx';

/** An anomaly with its explanation and lineage (event, schema and detector version, trace); OPERATOR and up label it. */
export function AnomalyCard({ anomaly: a, role, onChange }: { anomaly: Anomaly; role: Role; onChange: () => void }) {
  const lineage = useQuery<{ lineage: { schemaVersion: number; detectorVersion: { kind: string } } }>(LINEAGE, { id: a.id });
  return (
    <article class="card" data-anomaly-id={a.id}>
      <div class="feed-head">
        <span class={`pill sev-${a.severity.toLowerCase()}`}>{a.severity}</span>
        <strong>
          {a.field} = {number(a.value, 3)}
        </strong>
        <span class="muted">
          {a.seriesKey ?? 'single series'} · {time(a.eventTime)}
        </span>
        <SilencedPill silence={a.silence} />
        {a.label && (
          <span class="pill" data-testid="anomaly-label">
            {a.label === 'TRUE_POSITIVE' ? 'true positive' : 'false positive'}
          </span>
        )}
      </div>
      <div class="explanation">{a.explanation}</div>
      <dl class="lineage">
        <dt>Event</dt>
        <dd>
          topic {a.source.topic}, partition {a.source.partition}, offset {a.source.offset}
        </dd>
        <dt>Schema</dt>
        <dd>{lineage.data ? `v${lineage.data.lineage.schemaVersion}` : '…'}</dd>
        <dt>Detector</dt>
        <dd>
          {a.detector.name} v{a.detectorVersion}
          {lineage.data && ` (${lineage.data.lineage.detectorVersion.kind})`}
        </dd>
        <dt>Trace</dt>
        <dd>{a.traceId ?? '—'}</dd>
      </dl>
      {allows(role, 'OPERATOR') && (
        <div class="controls">
          <ActionButton label="True positive" mutation={MUTATIONS.label} variables={{ id: a.id, label: 'TRUE_POSITIVE' }} onDone={onChange} disabled={a.label === 'TRUE_POSITIVE'} />
          <ActionButton label="False positive" mutation={MUTATIONS.label} variables={{ id: a.id, label: 'FALSE_POSITIVE' }} onDone={onChange} disabled={a.label === 'FALSE_POSITIVE'} />
        </div>
      )}
    </article>
  );
}
