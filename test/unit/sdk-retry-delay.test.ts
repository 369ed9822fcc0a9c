import { ClientError } from 'graphql-request';
import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../sdk/index.ts';

const answer = (status: number, errors: { message: string; extensions: Record<string, unknown> }[]) =>
  new ClientError({ status, headers: new Headers(), errors } as never, { query: 'mutation { x }' });
const options = { retries: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

describe("the SDK's retry rule", () => {
  it('retries what may pass, backing off with jitter up to the cap', () => {
    for (const error of [new TypeError('fetch failed'), answer(502, []), answer(200, [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL' } }])]) {
      const first = retryDelay(error, 0, options)!;
      expect(first).toBeGreaterThanOrEqual(50);
      expect(first).toBeLessThanOrEqual(100);
      expect(retryDelay(error, 10, options)).toBeLessThanOrEqual(1_000);
    }
  });

  it('waits what RATE_LIMITED says, and retries a request that is still running under its key', () => {
    expect(retryDelay(answer(429, [{ message: 'rate limit', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 3 } }]), 0, options)).toBe(3_000);
    const running = answer(200, [{ message: 'a request with this Idempotency-Key is still running: retry once it has answered', extensions: { code: 'CONFLICT', field: 'Idempotency-Key' } }]);
    expect(retryDelay(running, 0, options)).toBeGreaterThan(0);
  });

  it('does not retry the kept answer of an Idempotency-Key: it would only be given again', () => {
    const kept = new ClientError(
      { status: 200, headers: new Headers(), errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL' } }], extensions: { idempotency: { replayed: true } } } as never,
      { query: 'mutation { x }' },
    );
    expect(retryDelay(kept, 0, options)).toBeUndefined();
  });

  it('does not retry refusals, whose answer will not change', () => {
    for (const code of ['BAD_USER_INPUT', 'NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED', 'CONFLICT']) {
      expect(retryDelay(answer(200, [{ message: 'no', extensions: { code, field: 'input.name' } }]), 0, options), code).toBeUndefined();
    }
  });
});
