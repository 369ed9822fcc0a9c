import { clearAllDataLoaders } from '@pothos/plugin-dataloader';
import { UnauthenticatedError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import { subscriptionClosed, subscriptionOpened } from '../telemetry/metrics.ts';
import type { Context } from './context.ts';
import { principalOf } from './guard.ts';


/**
 * A subscription's event stream. Authorised before it starts by the field's
 * authScopes (scope-auth with authorizeOnSubscribe: a refused subscriber gets
 * an error at once, not an empty stream), the key re-checked every
 * VIGIL_KEY_RECHECK_MS whether or not events flow, so a revoked key's
 * subscription ends (over SSE too, where no socket sweep reaches it), and
 * mapped/filtered per event (`select` returns undefined to skip one).
 */
export function liveEvents<Raw, T>(ctx: Context, channel: string, select: (raw: Raw) => Promise<T | undefined>): AsyncGenerator<T> {
  return guardedEvents(ctx, channel, (signal) => selected(ctx.services.pubsub.subscribe<Raw>(channel, signal), select));
}

/**
 * Any source of a subscription's events (live only, or replay then live:
 * resumable.ts) under the same guard. `open` gets a signal that aborts when
 * the subscriber goes, so a source waiting for its next event lets go at once.
 */
export function guardedEvents<T>(ctx: Context, channel: string, open: (signal: AbortSignal) => AsyncIterator<T>): AsyncGenerator<T> {
  return stream(ctx, principalOf(ctx), channel, open);
}

async function* selected<Raw, T>(source: AsyncIterableIterator<Raw>, select: (raw: Raw) => Promise<T | undefined>): AsyncGenerator<T> {
  try {
    for await (const raw of source) {
      const value = await select(raw);
      if (value !== undefined) yield value;
    }
  } finally {
    await source.return?.();
  }
}

async function* stream<T>(
  ctx: Context,
  principal: Principal,
  channel: string,
  open: (signal: AbortSignal) => AsyncIterator<T>,
): AsyncGenerator<T> {
  const gone = new AbortController();
  const iterator = open(gone.signal);
  const recheckMs = ctx.services.ports.config.edge.keyRecheckMs;
  subscriptionOpened(channel);
  try {
    let next = iterator.next();
    let checkedAt = Date.now();
    for (;;) {
      const outcome = await nextOrTimeout(next, Math.max(0, checkedAt + recheckMs - Date.now()));
      if (Date.now() - checkedAt >= recheckMs) {
        if (!(await ctx.services.apiKeys.stillValid(principal))) throw new UnauthenticatedError('the API key was revoked');
        checkedAt = Date.now();
      }
      if (outcome === 'timeout') continue;
      if (outcome.done) return;
      next = iterator.next();
      // One context serves every event of a subscription: rows loaded for an earlier event (its steps, its stream) may have changed since.
      clearAllDataLoaders(ctx);
      yield outcome.value;
    }
  } finally {
    subscriptionClosed(channel);
    gone.abort();
    await iterator.return?.();
  }
}

/** The pending `next` if it settles within `ms`, else 'timeout' (leaving it pending for the next call). */
async function nextOrTimeout<T>(next: Promise<IteratorResult<T>>, ms: number): Promise<IteratorResult<T> | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([next, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
