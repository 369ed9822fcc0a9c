import { MUTATIONS } from '../api/documents.ts';
import { allows, time } from '../format.ts';
import type { Execution, Role } from '../types.ts';
import { ActionButton } from './action-button.tsx';

const verification = (v: boolean | null) => (v === null ? 'not verified' : v ? 'verified' : 'verification failed');

/**
 * A runbook execution with its steps; OPERATOR and up approve or cancel it
 * while that is possible. Four eyes: the key that requested a run is not
 * offered its approval unless the runbook allows self-approval (`me` is the
 * signed-in key's name, which `requestedBy` names).
 */
export function ExecutionCard({ execution: e, role, me, onChange }: { execution: Execution; role: Role; me: string; onChange: () => void }) {
  const operator = allows(role, 'OPERATOR');
  const mayApprove = e.requestedBy !== me || e.runbook.allowSelfApproval;
  const cancellable = e.status === 'PENDING_APPROVAL' || e.status === 'QUEUED';
  return (
    <article class="card" data-execution-id={e.id}>
      <div class="feed-head">
        <strong>{e.runbook.name}</strong>
        <span class="pill" data-testid="execution-status">
          {e.status}
        </span>
        <span class="muted small">
          requested by {e.requestedBy} · {time(e.createdAt)}
          {e.approvedBy && ` · approved by ${e.approvedBy}`} · {verification(e.verified)}
        </span>
      </div>
      <ol class="steps">
        {e.steps.map((s) => (
          <li key={s.index}>
            {s.action}: <strong>{s.status}</strong>
            {s.attempts > 1 && ` after ${s.attempts} attempts`}
            {s.error && <span class="error"> — {s.error}</span>}
          </li>
        ))}
      </ol>
      {operator && (
        <div class="controls">
          {e.status === 'PENDING_APPROVAL' && mayApprove && (
            <ActionButton label="Approve" kind="primary" mutation={MUTATIONS.approve} variables={{ id: e.id }} onDone={onChange} />
          )}
          {e.status === 'PENDING_APPROVAL' && !mayApprove && (
            <span class="muted small" data-testid="awaiting-approval">
              You requested this run: another OPERATOR or ADMIN approves it.
            </span>
          )}
          {cancellable && <ActionButton label="Cancel run" mutation={MUTATIONS.cancel} variables={{ id: e.id }} onDone={onChange} confirm="Cancel this execution?" />}
        </div>
      )}
    </article>
  );
}
