import { OVERVIEW } from '../api/documents.ts';
import { useQuery } from '../hooks/use-query.ts';
import { useLiveState } from '../hooks/use-subscription.ts';
import type { Role, StreamSummary } from '../types.ts';
import { ComponentList } from './component-list.tsx';
import { ErrorNotice } from './error-notice.tsx';
import { IncidentCounts } from './incident-counts.tsx';
import { LiveFeed } from './live-feed.tsx';
import { SilenceList } from './silences.tsx';
import { StreamHealthTable } from './stream-health-table.tsx';

interface OverviewData {
  streams: { edges: { node: StreamSummary }[] };
  health: { status: string; components: { name: string; status: string; detail: string | null }[] };
}

/** Green while graphql-ws pushes, amber while it reconnects: a quiet feed is not mistaken for a dead one. */
function LiveDot() {
  const { state } = useLiveState();
  return <span class={`live-dot ${state}`} title={state === 'live' ? 'pushed over graphql-ws' : `live updates: ${state}`} />;
}

/** What is burning: every stream's health, open incidents by severity, what is silenced, anomalies as they happen. */
export function OverviewPage({ role }: { role: Role }) {
  const overview = useQuery<OverviewData>(OVERVIEW, {});
  return (
    <div class="overview">
      <section class="panel wide">
        <h2>Streams</h2>
        <ErrorNotice error={overview.error} />
        {overview.data && <StreamHealthTable streams={overview.data.streams.edges.map((e) => e.node)} />}
      </section>
      <section class="panel">
        <h2>Open incidents</h2>
        <IncidentCounts />
        <h2>Silenced</h2>
        <SilenceList role={role} />
        <h2>Service</h2>
        {overview.data && <ComponentList components={overview.data.health.components} />}
      </section>
      <section class="panel feed-panel">
        <h2>
          Live anomalies <LiveDot />
        </h2>
        <LiveFeed />
      </section>
    </div>
  );
}
