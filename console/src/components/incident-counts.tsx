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
  useTicks(30_000);
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
      {/* The clock is read at each render, not at the last tick: an incident re-read since the tick would otherwise be "open for -1s". */}
      {open.data && <BurningIncidents incidents={open.data} now={Date.now()} />}
    </>
  );
}

/** Renders again every `everyMs`, so "open for" ages without a reload. */
function useTicks(everyMs: number): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((tick) => tick + 1), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
}
