import { useEffect, useState } from 'preact/hooks';
import { OPEN_INCIDENTS } from '../api/documents.ts';
import { allPages, useQuery } from '../hooks/use-query.ts';
import { useSubscription } from '../hooks/use-subscription.ts';
import { LIVE_INCIDENT } from '../api/documents.ts';
import { href } from '../router.ts';
import type { IncidentSummary, Severity } from '../types.ts';
import { BurningIncidents } from './burning-incidents.tsx';

const SEVERITIES: Severity[] = ['CRITICAL', 'WARNING', 'INFO'];

type Page = { incidents: { edges: { node: IncidentSummary }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

/** Open and acknowledged incidents by severity, then by name, read again whenever an incident changes. */
export function IncidentCounts() {
  const open = useQuery(OPEN_INCIDENTS, {}, () => allPages(OPEN_INCIDENTS, {}, (d: Page) => d.incidents));
  useSubscription(LIVE_INCIDENT, {}, () => open.reload());
  const now = useNow(30_000);
  const counts = SEVERITIES.map((severity) => ({ severity, count: open.data?.filter((i) => i.severity === severity).length ?? 0 }));
  return (
    <>
      <div class="counts" data-testid="incident-counts">
        {counts.map(({ severity, count }) => (
          <a key={severity} class={`count sev-${severity.toLowerCase()}`} href={href.incidents()} data-testid={`open-${severity}`}>
            <strong>{open.data ? count : '…'}</strong>
            <span>{severity}</span>
          </a>
        ))}
      </div>
      {open.data && <BurningIncidents incidents={open.data} now={now} />}
    </>
  );
}

/** The clock, read again every `everyMs`, so "open for" ages without a reload. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
