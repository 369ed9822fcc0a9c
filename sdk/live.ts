import { print, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import {
  AnomalyFieldsFragmentDoc,
  IncidentFieldsFragmentDoc,
  type AnomalyFieldsFragment,
  type ExecutionStatus,
  type IncidentFieldsFragment,
} from './generated/index.ts';

/**
 * Subscriptions that survive restarts: of the gateway, of Redis, of the
 * network. Each item the server pushes carries a `cursor`; the helper keeps
 * the last one and, whenever it has to connect again, subscribes with
 * `after: <that cursor>`, and the server first replays what was committed
 * meanwhile. Nothing is missed and nothing comes twice (docs/faults.md,
 * "Subscriptions that resume").
 */

export interface ResumableOptions<Item> {
  /** The gateway's WebSocket endpoint, e.g. ws://127.0.0.1:4000/graphql. */
  url: string;
  /** An API key secret (VIEWER or above). */
  apiKey: string;
  /**
   * One subscription field, declaring `$after: String` and passing it as
   * `after`, whose selection includes `cursor` (RESUMABLE_ANOMALIES, ...).
   */
  query: string | DocumentNode;
  variables?: Record<string, unknown>;
  /** Where to start: the `cursor` a previous run received last. Without it, from now on. */
  after?: string | null;
  onItem(item: Item): void;
  /** The subscription ended for good: the key was refused, the request is wrong, or dispose() was called (no error then). */
  onEnd?(error?: unknown): void;
  /** Where there is no global WebSocket (Node before 22): the `ws` package's class. */
  webSocketImpl?: unknown;
  /** The wait before reconnect attempt `retries` (from 0); default doubles from 0.5 s up to 30 s, with jitter. */
  retryDelayMs?(retries: number): number;
}

export interface ResumableSubscription {
  /** The cursor of the last item received: pass it as `after` to resume later, e.g. after a restart of this process. */
  readonly cursor: string | null;
  dispose(): Promise<void>;
}

/** Close codes that mean "asking again will not help": bad request, unauthorised, key refused, bad subprotocol, duplicate id, too many inits. */
const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406, 4409, 4429]);
/** GraphQL error codes worth subscribing again for; any other (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT...) is final. */
const TRANSIENT_ERROR_CODES = new Set(['INTERNAL', 'RATE_LIMITED']);

export function defaultRetryDelayMs(retries: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(retries, 6)) * (0.5 + Math.random() / 2);
}

/** Whether graphql-ws should connect again: yes for a refused connection or a dropped socket, no when the server said no. */
export function shouldReconnect(errOrCloseEvent: unknown): boolean {
  const code = (errOrCloseEvent as { code?: unknown } | null)?.code;
  return typeof code !== 'number' || !FINAL_CLOSE_CODES.has(code);
}

function isTransient(error: unknown): boolean {
  if (Array.isArray(error)) {
    const codes = (error as GraphQLFormattedError[]).map((e) => e.extensions?.code);
    return codes.length > 0 && codes.every((code) => typeof code === 'string' && TRANSIENT_ERROR_CODES.has(code));
  }
  return shouldReconnect(error);
}

/**
 * Subscribes and keeps subscribed: reconnects without limit (a refused
 * connection included) unless the server refuses the key (4403) or the
 * request (4400, a GraphQL error other than INTERNAL or RATE_LIMITED), each
 * time resuming after the last cursor received. Before the first item there
 * is no cursor: what commits while the very first connection is being made
 * is not replayed.
 */
export function subscribeResumable<Item extends { cursor?: string | null }>(options: ResumableOptions<Item>): ResumableSubscription {
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  const wait = (retries: number) => new Promise<void>((resolve) => setTimeout(resolve, retryDelayMs(retries)));
  // graphql-ws sends this same payload object again on every reconnect: updating `after` in it is how the cursor travels.
  const variables: Record<string, unknown> = { ...options.variables, after: options.after ?? null };
  const payload = { query: typeof options.query === 'string' ? options.query : print(options.query), variables };
  const client: Client = createClient({
    url: options.url,
    connectionParams: { authorization: `Bearer ${options.apiKey}` },
    ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: shouldReconnect,
    retryWait: wait,
  });
  let cursor: string | null = options.after ?? null;
  let disposed = false;
  let resubscriptions = 0;
  let unsubscribe: () => void = () => undefined;
  let pending: ReturnType<typeof setTimeout> | undefined;

  const end = (error?: unknown) => {
    if (disposed) return;
    disposed = true;
    void client.dispose();
    options.onEnd?.(error);
  };
  // graphql-ws gives up on some codes it deems fatal (4500 when a source failed on the server): subscribe again ourselves.
  const again = () => {
    if (disposed) return;
    pending = setTimeout(() => {
      if (!disposed) subscribe();
    }, retryDelayMs(resubscriptions++));
  };
  const subscribe = () => {
    unsubscribe = client.subscribe<Record<string, Item>>(payload, {
      next: (result) => {
        const item = Object.values(result.data ?? {})[0];
        if (!item) return;
        resubscriptions = 0;
        if (typeof item.cursor === 'string') {
          cursor = item.cursor;
          variables.after = cursor;
        }
        options.onItem(item);
      },
      error: (error) => (isTransient(error) ? again() : end(error)),
      // A resumable subscription has no natural end: the server completed it because it is going away.
      complete: again,
    });
  };
  subscribe();

  return {
    get cursor() {
      return cursor;
    },
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      clearTimeout(pending);
      unsubscribe();
      await client.dispose();
      options.onEnd?.();
    },
  };
}

export type AnomalyPush = AnomalyFieldsFragment & { cursor: string | null };
export type IncidentPush = IncidentFieldsFragment & { cursor: string | null };
export interface ExecutionPush {
  id: string;
  status: ExecutionStatus;
  cursor: string | null;
  runbook: { id: string };
  incident: { id: string } | null;
  approvedBy: string | null;
  verified: boolean | null;
  createdAt: string;
  finishedAt: string | null;
}

const fragments = (doc: DocumentNode) => print(doc);

/** Variables: filter (AnomalyFilter), after. Items: AnomalyPush. */
export const RESUMABLE_ANOMALIES = `subscription resumableAnomalies($filter: AnomalyFilter, $after: String) {
  anomalies(filter: $filter, after: $after) { cursor ...AnomalyFields }
}
${fragments(AnomalyFieldsFragmentDoc)}`;

/** Variables: filter (IncidentFilter), after. Items: IncidentPush. */
export const RESUMABLE_INCIDENTS = `subscription resumableIncidents($filter: IncidentFilter, $after: String) {
  incidentUpdates(filter: $filter, after: $after) { cursor ...IncidentFields }
}
${fragments(IncidentFieldsFragmentDoc)}`;

/** Variables: runbookId, after. Items: ExecutionPush. */
export const RESUMABLE_EXECUTIONS = `subscription resumableExecutions($runbookId: ID, $after: String) {
  executionUpdates(runbookId: $runbookId, after: $after) {
    cursor id status runbook { id } incident { id } approvedBy verified createdAt finishedAt
  }
}`;
