import { useCallback, useEffect, useState } from 'preact/hooks';
import { gql } from '../api/http.ts';

export interface QueryState<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  /** Reads again (after an action, or when a subscription says something changed). */
  reload: () => void;
}

/** Runs `query` when `key` changes (a JSON string of what it depends on), and on reload(). */
export function useQuery<T>(query: string, variables: Record<string, unknown>, load?: () => Promise<T>): QueryState<T> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    (load ? load() : gql<T>(query, variables)).then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error: Error) => current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      current = false;
    };
    // `key` stands for `variables`; `load` is a fresh closure each render and reads the same inputs.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [query, key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

/** Every page of a connection (up to `maxPages` of 100), oldest first: the API pages forward by id only. */
export async function allPages<N>(
  query: string,
  variables: Record<string, unknown>,
  connectionOf: (data: never) => { edges: { node: N }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } },
  maxPages = 10,
): Promise<N[]> {
  const nodes: N[] = [];
  let after: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const connection = connectionOf((await gql(query, { ...variables, after })) as never);
    nodes.push(...connection.edges.map((e) => e.node));
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  return nodes;
}
