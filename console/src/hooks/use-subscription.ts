import { useEffect, useRef, useState } from 'preact/hooks';
import { live, type LiveState } from '../api/live.ts';

/** Calls `onData` for each event of a graphql-ws subscription while the component is shown. */
export function useSubscription<T>(query: string, variables: Record<string, unknown>, onData: (item: T) => void): void {
  const handler = useRef(onData);
  handler.current = onData;
  const key = JSON.stringify(variables);
  useEffect(() => live.subscribe<T>(query, JSON.parse(key) as Record<string, unknown>, (item) => handler.current(item)), [query, key]);
}

/** The state of the live connection, for the banner. */
export function useLiveState(): { state: LiveState; detail: string | null } {
  const [value, setValue] = useState({ state: live.state, detail: live.detail });
  useEffect(() => live.onState((state, detail) => setValue({ state, detail })), []);
  return value;
}
