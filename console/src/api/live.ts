import { createClient, type Client } from 'graphql-ws';
import { storedKey } from '../session.ts';
import { gql } from './http.ts';

/** graphql-ws' Forbidden: the gateway closes a socket with it when its key is refused or revoked. */
const FORBIDDEN_CLOSE = 4403;

/** What the console tells the person about live updates. */
export type LiveState = 'connecting' | 'live' | 'reconnecting';

type StateListener = (state: LiveState, detail: string | null) => void;

interface Resumable {
  query: string;
  variables: Record<string, unknown>;
  cursor: string | null;
  onData(item: unknown): void;
  dispose: () => void;
}

/**
 * One graphql-ws connection for the whole console. It retries for ever; after
 * a drop, each subscription is opened again from the `cursor` of the last item
 * it received, so nothing committed while away is missed or shown twice.
 */
class LiveConnection {
  private client: Client | null = null;
  private readonly listeners = new Set<StateListener>();
  private readonly active = new Set<Resumable>();
  state: LiveState = 'connecting';
  detail: string | null = null;

  private setState(state: LiveState, detail: string | null): void {
    this.state = state;
    this.detail = detail;
    for (const listener of this.listeners) listener(state, detail);
  }

  private ensureClient(): Client {
    if (this.client) return this.client;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.client = createClient({
      url: `${scheme}://${location.host}/graphql`,
      connectionParams: () => ({ authorization: `Bearer ${storedKey() ?? ''}` }),
      lazy: false,
      keepAlive: 5_000,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      retryWait: async (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 5_000))),
      on: {
        connected: (_socket, _payload, wasRetry) => {
          this.setState('live', null);
          if (wasRetry) for (const sub of this.active) this.open(sub);
        },
        closed: (event) => {
          const close = event as CloseEvent | undefined;
          const reason = close?.reason || null;
          // Over HTTP, a refused key signs the person out (http.ts); anything else keeps retrying.
          if (close?.code === FORBIDDEN_CLOSE) void gql('{ viewer { role } }').catch(() => undefined);
          this.setState(this.state === 'connecting' ? 'connecting' : 'reconnecting', reason);
        },
      },
    });
    return this.client;
  }

  private open(sub: Resumable): void {
    sub.dispose();
    const variables = sub.cursor ? { ...sub.variables, after: sub.cursor } : sub.variables;
    sub.dispose = this.ensureClient().subscribe<Record<string, { cursor?: string | null }>>(
      { query: sub.query, variables },
      {
        next: (result) => {
          const item = result.data ? Object.values(result.data)[0] : undefined;
          if (!item) return;
          if (item.cursor) sub.cursor = item.cursor;
          sub.onData(item);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }

  /** Subscribes; the callback gets the root field's value of every event. Returns the unsubscribe. */
  subscribe<T>(query: string, variables: Record<string, unknown>, onData: (item: T) => void): () => void {
    const sub: Resumable = { query, variables, cursor: null, onData: onData as (item: unknown) => void, dispose: () => undefined };
    this.active.add(sub);
    this.open(sub);
    return () => {
      this.active.delete(sub);
      sub.dispose();
    };
  }

  onState(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes the socket (sign-out): the next subscribe connects with the new key. */
  reset(): void {
    void this.client?.dispose();
    this.client = null;
    this.setState('connecting', null);
  }
}

export const live = new LiveConnection();
