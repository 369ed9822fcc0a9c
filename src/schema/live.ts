import type { Role } from '../generated/prisma/enums.ts';
import { UnauthenticatedError } from '../resolvers/errors.ts';
import type { Principal } from '../resolvers/principal.ts';
import { subscriptionClosed, subscriptionOpened } from '../telemetry/metrics.ts';
import type { Context } from './context.ts';
import { authorize } from './guard.ts';

/** How stale a subscriber's key check may be: a revoked key's subscriptions end within this. */
const KEY_RECHECK_MS = 5000;

/**
 * A subscription's event stream. Authorised before it starts (so a refused
 * subscriber gets an error at once, not an empty stream), re-checked as
 * events flow so a revoked key stops receiving, and mapped/filtered per event
 * (`select` returns undefined to skip one).
 */
export function liveEvents<Raw, T>(
  ctx: Context,
  role: Role,
  channel: string,
  select: (raw: Raw) => Promise<T | undefined>,
): AsyncGenerator<T> {
  const principal = authorize(ctx, role);
  return stream(ctx, principal, channel, select);
}

async function* stream<Raw, T>(
  ctx: Context,
  principal: Principal,
  channel: string,
  select: (raw: Raw) => Promise<T | undefined>,
): AsyncGenerator<T> {
  const source = ctx.services.pubsub.subscribe<Raw>(channel);
  let checkedAt = Date.now();
  subscriptionOpened(channel);
  try {
    for await (const raw of source) {
      if (Date.now() - checkedAt > KEY_RECHECK_MS) {
        if (!(await ctx.services.apiKeys.stillValid(principal))) throw new UnauthenticatedError('the API key was revoked');
        checkedAt = Date.now();
      }
      const value = await select(raw);
      if (value !== undefined) yield value;
    }
  } finally {
    subscriptionClosed(channel);
    await source.return?.();
  }
}
