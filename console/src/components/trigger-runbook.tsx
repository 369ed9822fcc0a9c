import { useState } from 'preact/hooks';
import { MUTATIONS, RUNBOOKS } from '../api/documents.ts';
import { useQuery } from '../hooks/use-query.ts';
import { ActionButton } from './action-button.tsx';

/** Runs a runbook by hand for this incident (OPERATOR and up; approval rules still apply). */
export function TriggerRunbook({ incidentId, onDone }: { incidentId: string; onDone: () => void }) {
  const runbooks = useQuery<{ runbooks: { id: string; name: string; requiresApproval: boolean }[] }>(RUNBOOKS, {});
  const [chosen, setChosen] = useState('');
  const list = runbooks.data?.runbooks ?? [];
  if (list.length === 0) return null;
  const runbookId = chosen || list[0]!.id;
  return (
    <div class="controls">
      <select name="runbook" value={runbookId} onChange={(e) => setChosen(e.currentTarget.value)}>
        {list.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name}
            {r.requiresApproval ? ' (needs approval)' : ''}
          </option>
        ))}
      </select>
      <ActionButton label="Trigger runbook" mutation={MUTATIONS.trigger} variables={{ runbookId, incidentId }} onDone={onDone} confirm="Run this runbook now?" />
    </div>
  );
}
