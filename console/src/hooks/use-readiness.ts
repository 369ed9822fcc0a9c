import { useEffect, useState } from 'preact/hooks';
import { readiness, type Readiness } from '../api/http.ts';

const POLL_MS = 10_000;

/** /readyz, polled: the console says when the service is degraded or unreachable. */
export function useReadiness(): Readiness | null {
  const [value, setValue] = useState<Readiness | null>(null);
  useEffect(() => {
    let current = true;
    const poll = () => void readiness().then((r) => current && setValue(r));
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, []);
  return value;
}
