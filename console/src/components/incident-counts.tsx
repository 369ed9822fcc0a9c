import { OPEN_INCIDENTS } from '../api/documents.ts';
import { allPages, useQuery } from '../hooks/use-query.ts';
import { useSubscription } from '../hooks/use-subscription.ts';
import { LIVE_INCIDENT } from '../api/documents.ts';
import { href } from '../router.ts';
import type { Severity } from '../types.ts';

const SEVERITIES: Severity[] = ['CRITICAL', 'WARNING', 'INFO'];

type Page = { incidents: { edges: { node: { id: string; severity: Severity } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

/** Open and acknowledged incidents by severity, read again whenever an incident changes. */
export function IncidentCounts() {
  const open = useQuery(OPEN_INCIDENTS, {}, () => allPages(OPEN_INCIDENTS, {}, (d: Page) => d.incidents));
  useSubscription(LIVE_INCIDENT, {}, () => open.reload());
  const counts = SEVERITIES.map((severity) => ({ severity, count: open.data?.filter((i) => i.severity === severity).length ?? 0 }));
  return (
    <div class="counts" data-testid="incident-counts">
      {counts.map(({ severity, count }) => (
        <a key={severity} class={`count sev-${severity.toLowerCase()}`} href={href.incidents()} data-testid={`open-${severity}`}>
          <strong>{open.data ? count : '…'}</strong>
          <span>{severity}</span>
        </a>
      ))}
    </div>
  );
}
