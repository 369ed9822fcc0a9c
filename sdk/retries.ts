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
 * Retries calls whose answer may change. Each mutation call gets an Idempotency-Key of
 * its own, sent with every try, so a try whose answer was lost after the server ran it
 * (a timeout, a dropped connection) is answered from the first run instead of running twice.
 */
export function retryingWrapper(options: RetryOptions): SdkFunctionWrapper {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return async (action, _operationName, operationType) => {
    const headers = operationType === 'mutation' ? { 'Idempotency-Key': randomUUID() } : undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        return await action(headers);
      } catch (error) {
        const delay = attempt < options.retries ? retryDelay(error, attempt, options) : undefined;
        if (delay === undefined) throw error;
        await sleep(delay);
      }
    }
  };
}
