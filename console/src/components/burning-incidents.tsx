import { duration } from '../format.ts';
import { burningOrder } from '../incident-order.ts';
import { href } from '../router.ts';
import type { IncidentSummary } from '../types.ts';

/** How many unresolved incidents the overview names; the rest are a link away. */
export const BURNING_SHOWN = 8;

/**
 * The unresolved incidents by name, so the overview answers "what is burning" without a click.
 * An age is never negative: a browser whose clock runs behind the server's reads 0s.
 */
export function BurningIncidents({ incidents, now }: { incidents: readonly IncidentSummary[]; now: number }) {
  if (incidents.length === 0) return <p class="muted">Nothing is burning: no open incident.</p>;
  const shown = [...incidents].sort(burningOrder).slice(0, BURNING_SHOWN);
  const more = incidents.length - shown.length;
  return (
    <ul class="burning" data-testid="burning">
      {shown.map((i) => (
        <li key={i.id}>
          <span class={`pill sev-${i.severity.toLowerCase()}`}>{i.severity}</span> <a href={href.incident(i.id)}>{i.title}</a>
          <div class="muted small">
            open for {duration(Math.max(0, now - Date.parse(i.openedAt)) / 1000)} · {i.anomalyCount} anomal{i.anomalyCount === 1 ? 'y' : 'ies'} ·{' '}
            {i.status === 'OPEN' ? <strong class="unacknowledged">not acknowledged</strong> : 'acknowledged'}
          </div>
        </li>
      ))}
      {more > 0 && (
        <li>
          <a href={href.incidents()}>
            and {more} more unresolved incident{more === 1 ? '' : 's'}
          </a>
        </li>
      )}
    </ul>
  );
}
