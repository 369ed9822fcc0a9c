import { useEffect, useState } from 'preact/hooks';
import { MUTATIONS, SILENCES } from '../api/documents.ts';
import { allows, time } from '../format.ts';
import { useQuery } from '../hooks/use-query.ts';
import type { Anomaly, Role, Silence } from '../types.ts';
import { ActionButton } from './action-button.tsx';
import { ErrorNotice } from './error-notice.tsx';

const DURATIONS: { label: string; minutes: number }[] = [
  { label: '30 minutes', minutes: 30 },
  { label: '1 hour', minutes: 60 },
  { label: '2 hours', minutes: 120 },
  { label: '4 hours', minutes: 240 },
  { label: '1 day', minutes: 1440 },
];

type SilencesData = { silences: { edges: { node: Silence }[] } };

/** Marks an anomaly recorded during a silence: it opened no incident. */
export function SilencedPill({ silence }: { silence: Anomaly['silence'] }) {
  if (!silence) return null;
  return (
    <span class="pill silenced" data-testid="silenced" title={`Recorded during a silence until ${time(silence.endsAt)}, so it opened no incident: ${silence.reason}`}>
      silenced
    </span>
  );
}

function scopeOf(s: Silence): string {
  return `${s.detector ? s.detector.name : 'every detector'}${s.seriesKey ? `, series ${s.seriesKey}` : ''}`;
}

/** One silence: what it covers, until when, why and who; OPERATOR and up may end it. */
function SilenceItem({ silence: s, role, showStream, onChange }: { silence: Silence; role: Role; showStream: boolean; onChange: () => void }) {
  return (
    <li>
      <span class={`pill ${s.active ? 'silenced' : ''}`}>{s.active ? 'silenced' : 'planned'}</span> {showStream && <strong>{s.stream.name}: </strong>}
      {scopeOf(s)} {s.active ? 'until' : `from ${time(s.startsAt)} to`} {time(s.endsAt)}
      <div class="muted small">
        “{s.reason}” · {s.createdBy}
      </div>
      {allows(role, 'OPERATOR') && <ActionButton label="End now" mutation={MUTATIONS.endSilence} variables={{ id: s.id }} onDone={onChange} />}
    </li>
  );
}

/** How often the lists are read again: silences start and end on their own, and others make them. */
const REREAD_MS = 30_000;

/** The silences holding or to come, of one stream or of all (the overview's "what is muted"). */
export function SilenceList({
  streamId,
  role,
  detectors = [],
  keyField = null,
}: {
  streamId?: string;
  role: Role;
  detectors?: { id: string; name: string }[];
  /** The stream's key field: when it has one, the form can silence one series. */
  keyField?: string | null;
}) {
  const silences = useQuery<SilencesData>(SILENCES, streamId ? { streamId } : {});
  const { reload } = silences;
  useEffect(() => {
    const timer = setInterval(reload, REREAD_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const items = silences.data?.silences.edges.map((e) => e.node) ?? [];
  return (
    <>
      <ErrorNotice error={silences.error} />
      {silences.data && items.length === 0 && <p class="muted">Nothing is silenced.</p>}
      {items.length > 0 && (
        <ul class="silences" data-testid="silences">
          {items.map((s) => (
            <SilenceItem key={s.id} silence={s} role={role} showStream={!streamId} onChange={silences.reload} />
          ))}
        </ul>
      )}
      {streamId && allows(role, 'OPERATOR') && <SilenceForm streamId={streamId} detectors={detectors} keyField={keyField} onDone={silences.reload} />}
    </>
  );
}

/** Silences this stream now, for a while, with a reason; every detector or only one, every series or only one. */
function SilenceForm(props: { streamId: string; detectors: { id: string; name: string }[]; keyField: string | null; onDone: () => void }) {
  const { streamId, detectors, keyField, onDone } = props;
  const [minutes, setMinutes] = useState(60);
  const [detectorId, setDetectorId] = useState('');
  const [seriesKey, setSeriesKey] = useState('');
  const [reason, setReason] = useState('');
  const series = seriesKey.trim();
  const endsAt = new Date(Date.now() + minutes * 60_000).toISOString();
  return (
    <div class="controls" data-testid="silence-form">
      <label>
        Silence for{' '}
        <select name="duration" value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
          {DURATIONS.map((d) => (
            <option key={d.minutes} value={d.minutes}>
              {d.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        of{' '}
        <select name="detector" value={detectorId} onChange={(e) => setDetectorId(e.currentTarget.value)}>
          <option value="">every detector</option>
          {detectors.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
      </label>
      {keyField && (
        <label>
          on {keyField} <input name="series" placeholder="every series" value={seriesKey} onInput={(e) => setSeriesKey(e.currentTarget.value)} />
        </label>
      )}
      <label>
        because <input name="reason" placeholder="e.g. database failover drill" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <ActionButton
        label="Silence"
        mutation={MUTATIONS.silence}
        variables={{ input: { streamId, endsAt, reason, ...(detectorId ? { detectorId } : {}), ...(series ? { seriesKey: series } : {}) } }}
        disabled={reason.trim() === ''}
        onDone={() => {
          setReason('');
          setSeriesKey('');
          onDone();
        }}
      />
      <p class="muted small hint">
        Anomalies in a silence are recorded and open no incident. Silencing every detector and every series also mutes Vigil's own alerts about
        this stream's pipeline (lag, errors, canary).
      </p>
    </div>
  );
}
