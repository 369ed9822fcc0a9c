import { useState } from 'preact/hooks';
import { LIVE_STREAM_HEALTH } from '../api/documents.ts';
import { duration, number, percent } from '../format.ts';
import { useSubscription } from '../hooks/use-subscription.ts';
import { href } from '../router.ts';
import type { StreamHealth, StreamSummary } from '../types.ts';

/** Each stream's lag, rate, dead-letter and error rates and canary latency, kept fresh by `streamHealth`. */
export function StreamHealthTable({ streams }: { streams: StreamSummary[] }) {
  const [fresh, setFresh] = useState<Record<string, StreamHealth>>({});
  useSubscription<StreamHealth & { stream: { id: string } }>(LIVE_STREAM_HEALTH, {}, (health) =>
    setFresh((current) => ({ ...current, [health.stream.id]: health })),
  );
  if (streams.length === 0) return <p class="muted">No stream is registered yet: register one with the registerStream mutation.</p>;
  return (
    <table class="grid" data-testid="stream-health">
      <thead>
        <tr>
          <th>Stream</th>
          <th>Status</th>
          <th class="num">Lag</th>
          <th class="num">Events/s</th>
          <th class="num">Errors</th>
          <th class="num">Dead letters</th>
          <th class="num">Canary</th>
          <th class="num">Last event</th>
        </tr>
      </thead>
      <tbody>
        {streams.map((s) => {
          const h = fresh[s.id] ?? s.health;
          return (
            <tr key={s.id}>
              <td>
                <a href={href.stream(s.id)}>{s.name}</a>
              </td>
              <td>
                <span class={`pill ${s.status === 'ACTIVE' ? 'ok' : 'degraded'}`}>{s.status}</span>
              </td>
              <td class="num">{h.ingestionLag}</td>
              <td class="num">{number(h.eventsPerSecond, 2)}</td>
              <td class="num">{percent(h.errorRate)}</td>
              <td class="num">{h.deadLetters}</td>
              <td class="num">{h.canaryLatencySeconds === null ? '—' : `${number(h.canaryLatencySeconds, 2)}s`}</td>
              <td class="num">{h.freshnessSeconds === null ? '—' : `${duration(h.freshnessSeconds)} ago`}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
