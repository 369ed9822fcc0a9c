import { randomUUID } from 'node:crypto';
import { ClientError } from 'graphql-request';
import type { SdkFunctionWrapper } from './generated/index.ts';

/** How the client retries a call whose answer may change: a lost connection, a 5xx, INTERNAL or RATE_LIMITED (not a kept answer). */
export interface RetryOptions {
  /** Further tries after the first (0: none, the default of createVigilClient). */
  retries: number;
  /** The first wait; each next one doubles, with jitter, up to maxDelayMs (RATE_LIMITED waits what the server says). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Waits (a test passes its own to take no time); resolves after `ms`. */
  sleep?: (ms: number) => Promise<void>;
}

const PASSING_CODES = new Set(['INTERNAL', 'RATE_LIMITED']);

/**
 * How long to wait before trying again, or undefined when the answer will not change
 * (a refusal): retrying it would only repeat it.
 */
export function retryDelay(error: unknown, attempt: number, options: RetryOptions): number | undefined {
  const backoff = Math.min(options.maxDelayMs ?? 5_000, (options.baseDelayMs ?? 200) * 2 ** attempt) * (0.5 + Math.random() / 2);
  if (!(error instanceof ClientError)) return error instanceof Error ? backoff : undefined; // no answer: the connection failed
  // The kept answer of an Idempotency-Key: asking again would only repeat it.
  if ((error.response.extensions as { idempotency?: { replayed?: boolean } } | undefined)?.idempotency?.replayed) return undefined;
  const errors = (error.response.errors ?? []).map((e) => ({ ...((e.extensions ?? {}) as { code?: string; field?: string; retryAfterSeconds?: number }), message: e.message }));
  const limited = errors.find((e) => e.code === 'RATE_LIMITED');
  if (limited) return Number(limited.retryAfterSeconds ?? 1) * 1000;
  const stillRunning = errors.some((e) => e.field === 'Idempotency-Key' && /still running/.test(e.message));
  if (stillRunning || error.response.status >= 500 || errors.some((e) => PASSING_CODES.has(String(e.code)))) return backoff;
  return undefined;
}

/**
 * Retries calls whose answer may change. Safe for mutations only with the key of
 * keyEveryCall: every try of a call then carries the same Idempotency-Key, so a try
 * whose answer was lost after the server ran it (a timeout, a dropped connection) is
 * answered from the first run instead of running twice.
 */
export function retryingWrapper(options: RetryOptions): SdkFunctionWrapper {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return async (action) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await action();
      } catch (error) {
        const delay = attempt < options.retries ? retryDelay(error, attempt, options) : undefined;
        if (delay === undefined) throw error;
        await sleep(delay);
      }
    }
  };
}

const KEY_HEADER = 'idempotency-key';

type CallHeaders = Record<string, string> | undefined;

/**
 * Gives every call of `sdk` that carries no Idempotency-Key one of its own, made
 * once per call and so sent with each of its tries; a key the caller passes
 * (say, one kept across a restart of the script) is sent as it is. Queries get
 * one too and ignore it: the generated methods do not say which are mutations,
 * and the header costs nothing. Done per call, not in the wrapper, because the
 * wrapper's headers are merged over the caller's and would replace its key.
 */
export function keyEveryCall<S extends object>(sdk: S): S {
  const keyed = Object.entries(sdk).map(([name, call]) => {
    const method = call as (variables?: unknown, headers?: CallHeaders, signal?: unknown) => Promise<unknown>;
    return [name, (variables?: unknown, headers?: CallHeaders, signal?: unknown) => method(variables, withKey(headers), signal)];
  });
  return Object.fromEntries(keyed) as S;
}

function withKey(headers: CallHeaders): Record<string, string> {
  if (headers && Object.keys(headers).some((name) => name.toLowerCase() === KEY_HEADER)) return headers;
  return { ...headers, 'Idempotency-Key': randomUUID() };
}
