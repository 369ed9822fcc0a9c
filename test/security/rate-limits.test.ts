import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/env.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { bearer, expectStillResponsive, post, type ErrorBody } from './probe.ts';

/**
 * Rate limits in Redis: cost points per key with a burst, anonymous traffic
 * per address, failed authentications per address. Low limits and a queue
 * prefix of its own, so no other test file shares these buckets.
 */
let h: Harness;
const QUERY = JSON.stringify({ query: '{ viewer { role } }' }); // costs 2

beforeAll(async () => {
  h = await startHarness({
    env: {
      VIGIL_QUEUE_PREFIX: uniqueName('ratelimit'),
      VIGIL_RATE_POINTS_PER_SECOND: '1',
      VIGIL_RATE_BURST: '20',
      VIGIL_ANON_RATE_POINTS_PER_SECOND: '1',
      VIGIL_ANON_RATE_BURST: '20',
      VIGIL_AUTH_FAILURES_PER_MINUTE: '3',
    },
  });
});
afterAll(async () => {
  await h?.close();
});

/** Sends `request` until it is refused, and returns that response and how many went through. */
async function untilRefused(request: () => Promise<Response>, atMost = 100): Promise<{ response: Response; body: ErrorBody; allowed: number }> {
  for (let allowed = 0; allowed < atMost; allowed++) {
    const response = await request();
    const body = (await response.json()) as ErrorBody;
    if (body.errors?.some((e) => e.extensions?.code === 'RATE_LIMITED')) return { response, body, allowed };
  }
  throw new Error(`not refused after ${atMost} requests`);
}

describe('per key', () => {
  it('refuses a key that has spent its burst with RATE_LIMITED, 429 and a retry hint; another key is unaffected', async () => {
    const { secret } = await h.createKey('VIEWER');
    const { response, body, allowed } = await untilRefused(() => post(h, QUERY, bearer(secret)));
    expect(allowed).toBeGreaterThanOrEqual(9);
    expect(allowed).toBeLessThanOrEqual(11);
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(body.errors?.[0]?.extensions).not.toHaveProperty('http');
    const other = (await (await post(h, QUERY, bearer(h.secrets.VIEWER))).json()) as ErrorBody;
    expect(other.errors).toBeUndefined();
    await expectStillResponsive(h);
  });

  it('charges a costly query its cost, so it is refused sooner', async () => {
    const { secret } = await h.createKey('VIEWER');
    const costly = JSON.stringify({ query: '{ streams(first: 5) { edges { node { id name topic } } } }' });
    const { allowed } = await untilRefused(() => post(h, costly, bearer(secret)));
    expect(allowed).toBeLessThan(3);
  });
});

// Wrong keys count against the address's anonymous bucket too, so this runs first.
describe('failed authentication', () => {
  it('after a few wrong keys from an address, refuses its credentials before looking them up', async () => {
    const codes: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const body = (await (await post(h, QUERY, bearer(`vgl_${uniqueName('guess')}`))).json()) as ErrorBody;
      codes.push(body.errors?.[0]?.extensions?.code);
    }
    expect(codes.slice(0, 3)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(codes.slice(3)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    await expectStillResponsive(h);
  });
});

describe('without a key', () => {
  it('limits anonymous requests per address', async () => {
    const { body, allowed } = await untilRefused(() => post(h, QUERY));
    expect(allowed).toBeLessThanOrEqual(10);
    expect(body.errors?.[0]?.message).toMatch(/without a key from this address/);
  });
});
