import {
  changesAfter,
  decodePosition,
  encodePosition,
  existingIds,
  headPosition,
  type ChangeTable,
  type CommitPosition,
  type RowOf,
} from '../services/commit-positions.ts';
import type { Services } from '../services/container.ts';
import type { Context } from './context.ts';
import { guardedEvents } from './live.ts';

/**
 * Subscriptions that resume (docs/faults.md, "Subscriptions that resume").
 * Redis pub/sub delivers at most once, so it only rings the bell: what a
 * subscriber receives is read from PostgreSQL in commit order after the last
 * position it was given. The seam between replay and live is therefore no
 * merge of two streams but one cursor moving forward, and a message lost by
 * Redis delays an item (until the next message or QUIET_CATCH_UP_MS) rather
 * than dropping it.
 */
export interface ResumableFeed<T extends ChangeTable, Message> {
  table: T;
  channel: string;
  /** The subscription's filter, the same for replayed and live rows. */
  matches(row: RowOf<T>): boolean | Promise<boolean>;
  idOf(message: Message): string | undefined;
  /**
   * A message about no row in PostgreSQL (a publisher that writes nowhere,
   * e.g. a relay of another system) is delivered as it came, at most once
   * and without a cursor; undefined skips it.
   */
  passThrough?(message: Message): RowOf<T> | undefined;
}

/** Rows read per query while replaying. */
const PAGE_SIZE = 200;
/** Without any message for this long, look anyway: a publisher may have died between its commit and its publish. */
const QUIET_CATCH_UP_MS = 5_000;
/** How long to wait for Redis to confirm the subscription before replaying regardless (QUIET_CATCH_UP_MS covers the rest). */
const SUBSCRIBE_CONFIRM_MS = 2_000;
/** Messages held while a catch-up runs; any one of them is enough to look again, so older ones may go. */
const MAX_HELD_MESSAGES = 1_000;
/** Ids recently seen in the database, so a late message about one needs no query to be recognised. */
const RECENT_IDS = 2_000;

const cursors = new WeakMap<object, string>();

/** The cursor of a row this process delivered through a resumable subscription; null otherwise (e.g. read by a query). */
export function deliveredCursor(row: object): string | null {
  return cursors.get(row) ?? null;
}

/**
 * The events of `feed` after `after` (a `cursor` this API gave out), or from
 * now without one: what was committed after the cursor first, in commit
 * order, then what commits while subscribed, each once. A bad cursor is
 * refused before anything starts.
 */
export function resumableEvents<T extends ChangeTable, Message>(
  ctx: Context,
  feed: ResumableFeed<T, Message>,
  after: string | null | undefined,
): AsyncGenerator<RowOf<T>> {
  const start = after ? decodePosition(after) : undefined;
  return guardedEvents(ctx, feed.channel, (signal) => replayThenLive(ctx.services, feed, start, signal));
}

async function* replayThenLive<T extends ChangeTable, Message>(
  services: Services,
  feed: ResumableFeed<T, Message>,
  start: CommitPosition | undefined,
  signal: AbortSignal,
): AsyncGenerator<RowOf<T>> {
  const { db } = services.ports;
  // Subscribed before the first read: whatever commits after that read rings the bell.
  const inbox = new Inbox<Message>(services.pubsub.subscribe<Message>(feed.channel, signal));
  await withinMs(services.pubsub.subscribed?.(feed.channel), SUBSCRIBE_CONFIRM_MS);
  let position = start ?? (await headPosition(db));
  const recent = new RecentIds(RECENT_IDS);
  let messages: Message[] = [];
  while (!signal.aborted) {
    // Each read starts after the messages in hand arrived, so it sees every row they announce.
    for (;;) {
      const page = await changesAfter(db, feed.table, position, PAGE_SIZE);
      for (const { position: at, row } of page) {
        position = at;
        recent.add(row.id);
        if (!(await feed.matches(row))) continue;
        cursors.set(row, encodePosition(at));
        yield row;
      }
      if (page.length < PAGE_SIZE) break;
    }
    if (feed.passThrough) yield* passThrough(services, feed, messages, recent);
    if ((await inbox.wait(QUIET_CATCH_UP_MS)) === 'closed') return;
    messages = inbox.takeAll();
  }
}

/** The messages about rows PostgreSQL does not hold, as they came; the others were read above (or before the cursor). */
async function* passThrough<T extends ChangeTable, Message>(
  services: Services,
  feed: ResumableFeed<T, Message>,
  messages: Message[],
  recent: RecentIds,
): AsyncGenerator<RowOf<T>> {
  const unknown = new Map<string, Message>();
  for (const message of messages) {
    const id = feed.idOf(message);
    if (id !== undefined && !recent.has(id)) unknown.set(id, message);
  }
  if (unknown.size === 0) return;
  const stored = await existingIds(services.ports.db, feed.table, [...unknown.keys()]);
  for (const [id, message] of unknown) {
    if (stored.has(id)) {
      recent.add(id);
      continue;
    }
    const row = feed.passThrough!(message);
    if (row && (await feed.matches(row))) yield row;
  }
}

/** Pub/sub messages gathered in the background while the subscription reads the database. */
class Inbox<Message> {
  private messages: Message[] = [];
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(source: AsyncIterableIterator<Message>) {
    void this.pump(source);
  }

  private async pump(source: AsyncIterableIterator<Message>): Promise<void> {
    try {
      for await (const message of source) {
        if (this.messages.length >= MAX_HELD_MESSAGES) this.messages.shift();
        this.messages.push(message);
        this.wake?.();
      }
    } catch {
      // The subscription ends below like a closed one; the client resumes with its cursor.
    } finally {
      this.closed = true;
      this.wake?.();
    }
  }

  /** Until a message is held, `ms` pass, or the source ended. */
  async wait(ms: number): Promise<'message' | 'quiet' | 'closed'> {
    let timer: NodeJS.Timeout | undefined;
    while (this.messages.length === 0 && !this.closed) {
      const woke = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), ms);
      });
      clearTimeout(timer);
      this.wake = undefined;
      if (!woke) return this.closed ? 'closed' : 'quiet';
    }
    if (this.closed) return 'closed';
    return 'message';
  }

  takeAll(): Message[] {
    return this.messages.splice(0);
  }
}

/** A bounded set: the oldest ids go first. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }
}

async function withinMs(promise: Promise<void> | undefined, ms: number): Promise<void> {
  if (!promise) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
