import { useEffect, useState } from 'preact/hooks';
import { LIVE_ANOMALIES, RECENT_ANOMALIES } from '../api/documents.ts';
import { time } from '../format.ts';
import { allPages } from '../hooks/use-query.ts';
import { useSubscription } from '../hooks/use-subscription.ts';
import { href } from '../router.ts';
import type { Anomaly } from '../types.ts';
import { SilencedPill } from './silences.tsx';

const SHOWN = 50;
/** The feed starts with the last hour's anomalies, then grows from the subscription. */
const BACKLOG_MS = 3_600_000;

type Page = { anomalies: { edges: { node: Anomaly }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

/** Anomalies newest first, pushed over graphql-ws as they are committed, each with its explanation. */
export function LiveFeed({ filter = {} }: { filter?: Record<string, unknown> }) {
  const [items, setItems] = useState<Anomaly[]>([]);
  const add = (incoming: Anomaly[]) =>
    setItems((current) => {
      const seen = new Set(current.map((a) => a.id));
      const fresh = incoming.filter((a) => !seen.has(a.id));
      // Ids are time-ordered: newest first whatever arrived first, the backlog or a pushed anomaly.
      return [...fresh, ...current].sort((x, y) => y.id.localeCompare(x.id)).slice(0, SHOWN);
    });
  const key = JSON.stringify(filter);
  useEffect(() => {
    setItems([]);
    const since = new Date(Date.now() - BACKLOG_MS).toISOString();
    void allPages(RECENT_ANOMALIES, { filter: { ...filter, since } }, (d: Page) => d.anomalies, 5).then((backlog) => add(backlog.slice(-SHOWN)));
  }, [key]);
  useSubscription<Anomaly>(LIVE_ANOMALIES, { filter }, (anomaly) => add([anomaly]));

  if (items.length === 0) return <p class="muted">No anomaly in the last hour. New ones appear here as they are detected.</p>;
  return (
    <ol class="feed" data-testid="live-feed">
      {items.map((a) => (
        <li key={a.id} class={`sev-${a.severity.toLowerCase()}`} data-anomaly-id={a.id}>
          <div class="feed-head">
            <span class={`pill sev-${a.severity.toLowerCase()}`}>{a.severity}</span>
            <a href={href.stream(a.stream.id)}>{a.stream.name}</a>
            <span class="muted">
              {a.field}
              {a.seriesKey ? ` · ${a.seriesKey}` : ''} · {time(a.detectedAt)}
            </span>
            <SilencedPill silence={a.silence} />
          </div>
          <div class="explanation">{a.explanation}</div>
          {a.incident && (
            <a class="small" href={href.incident(a.incident.id)}>
              incident: {a.incident.title}
            </a>
          )}
        </li>
      ))}
    </ol>
  );
}
