import { MUTATIONS } from '../api/documents.ts';
import { allows, time } from '../format.ts';
import type { DeadLetter, Role } from '../types.ts';
import { ActionButton } from './action-button.tsx';

/** Events the stream refused, with the reason; OPERATOR and up may send them through again. */
export function DeadLettersTable({ deadLetters, role, onChange }: { deadLetters: DeadLetter[]; role: Role; onChange: () => void }) {
  if (deadLetters.length === 0) return <p class="muted">No dead letter.</p>;
  const waiting = deadLetters.filter((d) => !d.reprocessedAt).map((d) => d.id);
  return (
    <>
      {allows(role, 'OPERATOR') && waiting.length > 0 && (
        <ActionButton label={`Reprocess ${waiting.length}`} mutation={MUTATIONS.reprocess} variables={{ ids: waiting }} onDone={onChange} />
      )}
      <table class="grid" data-testid="dead-letters">
        <thead>
          <tr>
            <th>Received</th>
            <th>Where</th>
            <th>Reason</th>
            <th>Payload</th>
            <th>Reprocessed</th>
            {allows(role, 'OPERATOR') && <th />}
          </tr>
        </thead>
        <tbody>
          {deadLetters.map((d) => (
            <tr key={d.id}>
              <td>{time(d.receivedAt)}</td>
              <td class="small">
                p{d.source.partition}@{d.source.offset}
              </td>
              <td>{d.reason}</td>
              <td>
                <code class="params">{d.payload.slice(0, 120)}</code>
              </td>
              <td>{time(d.reprocessedAt)}</td>
              {allows(role, 'OPERATOR') && (
                <td>
                  {!d.reprocessedAt && <ActionButton label="Reprocess" mutation={MUTATIONS.reprocess} variables={{ ids: [d.id] }} onDone={onChange} />}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
