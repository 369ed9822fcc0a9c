import { useEffect, useState } from 'preact/hooks';
import { useReadiness } from '../hooks/use-readiness.ts';
import { useLiveState } from '../hooks/use-subscription.ts';

/** How long "live updates are back" stays up after a reconnection. */
const RECOVERED_MS = 8_000;

/** The service's readiness (/readyz) and the live connection, when either is not well. */
export function StatusBanners() {
  const ready = useReadiness();
  const { state, detail } = useLiveState();
  const [recovered, setRecovered] = useState(false);
  const [wasDown, setWasDown] = useState(false);

  useEffect(() => {
    if (state === 'reconnecting') setWasDown(true);
    if (state === 'live' && wasDown) {
      setWasDown(false);
      setRecovered(true);
      const timer = setTimeout(() => setRecovered(false), RECOVERED_MS);
      return () => clearTimeout(timer);
    }
    return undefined;
  }, [state]);

  const down = ready?.components.filter((c) => c.status !== 'OK') ?? [];
  return (
    <div class="banners" data-live={state}>
      {ready && ready.status === 'UNREACHABLE' && (
        <div class="banner bad" role="alert" data-testid="banner-unreachable">
          The Vigil gateway is not answering. Pages show what was last loaded.
        </div>
      )}
      {ready && ready.status !== 'OK' && ready.status !== 'UNREACHABLE' && (
        <div class={`banner ${ready.status === 'DOWN' ? 'bad' : 'warn'}`} role="alert" data-testid="banner-degraded">
          Service {ready.status.toLowerCase()}:{' '}
          {down.map((c) => `${c.name} ${c.status.toLowerCase()}${c.detail ? ` (${c.detail})` : ''}`).join('; ') || 'see /readyz'}
        </div>
      )}
      {state === 'reconnecting' && (
        <div class="banner warn" role="alert" data-testid="banner-live-dropped">
          Live updates dropped{detail ? ` (${detail})` : ''}: reconnecting… Nothing is lost: the feed resumes from the last event received.
        </div>
      )}
      {recovered && (
        <div class="banner ok" role="status" data-testid="banner-live-back">
          Live updates reconnected.
        </div>
      )}
    </div>
  );
}
