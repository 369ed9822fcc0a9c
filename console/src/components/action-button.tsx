import { useState } from 'preact/hooks';
import { gql } from '../api/http.ts';
import { ErrorNotice } from './error-notice.tsx';

interface Props {
  label: string;
  mutation: string;
  variables: Record<string, unknown>;
  /** Called after the mutation succeeded (typically the page's reload). */
  onDone: () => void;
  /** When set, a second click on "Confirm" is needed, with this question shown. */
  confirm?: string;
  kind?: 'primary' | 'danger' | 'plain';
  disabled?: boolean;
}

/** A button that runs one mutation, says it is busy, and shows the API's refusal if there is one. */
export function ActionButton({ label, mutation, variables, onDone, confirm, kind = 'plain', disabled = false }: Props) {
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const run = () => {
    setAsking(false);
    setBusy(true);
    setError(null);
    gql(mutation, variables).then(
      () => {
        setBusy(false);
        onDone();
      },
      (e: Error) => {
        setBusy(false);
        setError(e);
      },
    );
  };
  return (
    <span class="action">
      {asking ? (
        <span class="confirm" role="group">
          <span>{confirm}</span>
          <button class="danger" onClick={run}>
            Confirm
          </button>
          <button onClick={() => setAsking(false)}>Cancel</button>
        </span>
      ) : (
        <button class={kind} disabled={busy || disabled} onClick={() => (confirm ? setAsking(true) : run())}>
          {busy ? `${label}…` : label}
        </button>
      )}
      <ErrorNotice error={error} />
    </span>
  );
}
