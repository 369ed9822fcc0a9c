import { useState } from 'preact/hooks';
import { MUTATIONS } from '../api/documents.ts';
import { allows } from '../format.ts';
import type { Role, StreamSummary } from '../types.ts';
import { ActionButton } from './action-button.tsx';

/** Pause/resume (ADMIN) and replay from a time (OPERATOR and up, confirmed); nothing for a VIEWER. */
export function StreamControls({ stream, role, onChange }: { stream: StreamSummary; role: Role; onChange: () => void }) {
  const [from, setFrom] = useState(() => new Date(Date.now() - 3_600_000).toISOString().slice(0, 16));
  const [replayed, setReplayed] = useState<string | null>(null);
  if (!allows(role, 'OPERATOR')) return null;
  const fromIso = new Date(`${from}:00Z`).toISOString();
  return (
    <div class="controls" data-testid="stream-controls">
      {allows(role, 'ADMIN') &&
        (stream.status === 'ACTIVE' ? (
          <ActionButton label="Pause" mutation={MUTATIONS.pause} variables={{ id: stream.id }} onDone={onChange} confirm="Stop consuming this stream?" />
        ) : (
          <ActionButton label="Resume" mutation={MUTATIONS.resume} variables={{ id: stream.id }} onDone={onChange} kind="primary" />
        ))}
      <label>
        Replay from (UTC){' '}
        <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
      </label>
      <ActionButton
        label="Replay"
        mutation={MUTATIONS.replay}
        variables={{ input: { streamId: stream.id, fromTimestamp: fromIso } }}
        confirm={`Re-consume ${stream.name} from ${fromIso}? Detectors see those events again.`}
        onDone={() => {
          setReplayed(fromIso);
          onChange();
        }}
      />
      {replayed && <span class="muted">replaying from {replayed}</span>}
    </div>
  );
}
