import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.ts';
import { MAX_QUERY_COST } from '../../src/gateway/query-cost.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { bearer, expectStillResponsive, post, type ErrorBody } from './probe.ts';

/**
 * Probes an anonymous caller or a VIEWER can send to exhaust the gateway
 * (graphql-cop's and the OWASP GraphQL cheat sheet's families): each is
 * refused before work is done, and the service answers /healthz at once after.
 */
let h: Harness;
const MAX_BYTES = loadConfig({}).edge.maxRequestBytes;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const codes = (body: ErrorBody) => (body.errors ?? []).map((e) => e.extensions?.code);

describe('parse-time limits', () => {
  it('stops parsing an anonymous 420k-token query at the token limit', async () => {
    const query = `{ ${'viewer { role } '.repeat(105_000)}}`;
    const response = await post(h, JSON.stringify({ query }), {});
    const body = (await response.json()) as ErrorBody;
    expect(codes(body)).toEqual(['BAD_USER_INPUT']);
    expect(body.errors?.[0]?.message).toMatch(/token limit of 2000/i);
    await expectStillResponsive(h);
  });

  it('refuses field duplication past the token limit', async () => {
    const response = await post(h, JSON.stringify({ query: `{ viewer { ${'role '.repeat(3000)}} }` }), bearer(h.secrets.VIEWER));
    expect(((await response.json()) as ErrorBody).errors?.[0]?.message).toMatch(/token limit/i);
    await expectStillResponsive(h);
  });

  it('refuses a 3,000-deep query without echoing internals', async () => {
    const query = `${'{ viewer '.repeat(3000)}${'}'.repeat(3000)}`;
    const body = (await (await post(h, JSON.stringify({ query }), bearer(h.secrets.VIEWER))).json()) as ErrorBody;
    expect(codes(body).every((c) => c === 'BAD_USER_INPUT')).toBe(true);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(js|ts):\d+/);
    await expectStillResponsive(h);
  });

  it('refuses alias overloading', async () => {
    const query = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: streams(first: 100) { edges { cursor } }`).join(' ')} }`;
    const body = (await (await post(h, JSON.stringify({ query }), bearer(h.secrets.VIEWER))).json()) as ErrorBody;
    expect(body.data).toBeUndefined();
    expect(body.errors?.map((e) => e.message).join(' ')).toMatch(/aliases limit of 15\b/i);
  });

  it('refuses directive overloading', async () => {
    const body = (await (await post(h, JSON.stringify({ query: `{ viewer ${'@include(if: true) '.repeat(50)}{ role } }` }), bearer(h.secrets.VIEWER))).json()) as ErrorBody;
    expect(codes(body)).toContain('BAD_USER_INPUT');
    expect(body.errors?.map((e) => e.message).join(' ')).toMatch(/directive/i);
  });

  it('caps the number of validation errors returned', async () => {
    const query = `{ ${Array.from({ length: 200 }, (_, i) => `f${i}`).join(' ')} }`;
    const body = (await (await post(h, JSON.stringify({ query }), bearer(h.secrets.VIEWER))).json()) as ErrorBody;
    expect(body.errors!.length).toBeLessThanOrEqual(21);
    expect(body.errors!.at(-1)?.message).toMatch(/more validation errors not shown/);
  });
});

describe('the cost of a query counts its pages, also when they come in variables', () => {
  const nestedPages = (first: string, aliases: number) =>
    `query${first === '$n' ? '($n: Int)' : ''} { ${Array.from({ length: aliases }, (_, i) => `a${i}: incidents(first: ${first}) { edges { node { anomalies(first: ${first}) { edges { node { id } } } } } }`).join(' ')} }`;

  it('costs first: $n as the largest page, so two aliased pages of pages are refused before running', async () => {
    const response = await post(h, JSON.stringify({ query: nestedPages('$n', 2), variables: { n: 100 } }), bearer(h.secrets.VIEWER));
    const body = (await response.json()) as ErrorBody;
    expect(codes(body)).toEqual(['BAD_USER_INPUT']);
    expect(body.errors?.[0]?.message).toContain(`cost limit of ${MAX_QUERY_COST}`);
    expect(body.data).toBeUndefined();
  });

  it('the same query with small literal pages runs', async () => {
    const response = await post(h, JSON.stringify({ query: nestedPages('5', 2) }), bearer(h.secrets.VIEWER));
    const body = (await response.json()) as ErrorBody;
    expect(body.errors).toBeUndefined();
  });

  it('a missing first costs the largest page too', async () => {
    const query = `{ ${Array.from({ length: 2 }, (_, i) => `a${i}: incidents { edges { node { anomalies { edges { node { id } } } } } }`).join(' ')} }`;
    const body = (await (await post(h, JSON.stringify({ query }), bearer(h.secrets.VIEWER))).json()) as ErrorBody;
    expect(body.errors?.[0]?.message).toContain('cost limit');
  });
});

describe('request shapes', () => {
  it(`refuses a body over VIGIL_MAX_REQUEST_BYTES with 413 before reading it`, async () => {
    const response = await post(h, JSON.stringify({ query: '{ viewer { role } }', variables: { pad: 'x'.repeat(MAX_BYTES) } }), bearer(h.secrets.VIEWER));
    expect(response.status).toBe(413);
    expect(((await response.json()) as ErrorBody).errors?.[0]?.message).toContain(`the limit is ${MAX_BYTES}`);
    await expectStillResponsive(h);
  });

  it('refuses a chunked POST whose size is not declared with 411', async () => {
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: '{ viewer { role } }' })));
        controller.close();
      },
    });
    const response = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(411);
  });

  it.each([
    ['a form post', 'application/x-www-form-urlencoded', 'query=mutation%7BcreateApiKey(name%3A%22x%22%2Crole%3AADMIN)%7Bsecret%7D%7D'],
    ['a multipart post', 'multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"mutation { pauseStream(id: \\"x\\") { id } }"}\r\n--b--'],
    ['a text/plain post', 'text/plain', JSON.stringify({ query: 'mutation { revokeApiKey(id: "x") { id } }' })],
  ])('refuses %s (a request a page on another site could send) with 415', async (_label, type, body) => {
    const response = await fetch(h.url, { method: 'POST', headers: { 'content-type': type, ...bearer(h.secrets.ADMIN) }, body });
    expect(response.status).toBe(415);
  });

  it('refuses a mutation over GET', async () => {
    const url = new URL(h.url);
    url.searchParams.set('query', 'mutation { revokeApiKey(id: "x") { id } }');
    const response = await fetch(url, { headers: { accept: 'application/json', ...bearer(h.secrets.ADMIN) } });
    expect(response.status).toBe(405);
  });

  it('answers a cross-site GET, which cannot carry the Authorization header, as anonymous', async () => {
    const url = new URL(h.url);
    url.searchParams.set('query', '{ apiKeys { id } }');
    const body = (await (await fetch(url, { headers: { accept: 'application/json', cookie: 'session=1' } })).json()) as ErrorBody;
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses batched operations', async () => {
    const one = { query: '{ viewer { role } }' };
    const response = await post(h, JSON.stringify(Array.from({ length: 100 }, () => one)), bearer(h.secrets.VIEWER));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(await response.json())).not.toContain('"role"');
  });

  it('does not reflect an arbitrary Origin, nor allow credentials', async () => {
    const response = await post(h, JSON.stringify({ query: '{ viewer { role } }' }), { origin: 'https://evil.example', ...bearer(h.secrets.VIEWER) });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await fetch(h.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('what the server tells about itself', () => {
  it('refuses introspection without a key, answers it for a VIEWER', async () => {
    const query = JSON.stringify({ query: '{ __schema { queryType { name } } }' });
    const anonymous = (await (await post(h, query)).json()) as ErrorBody;
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    const viewer = (await (await post(h, query, bearer(h.secrets.VIEWER))).json()) as { data?: { __schema: unknown } };
    expect(viewer.data?.__schema).toEqual({ queryType: { name: 'Query' } });
  });

  it('hides introspection reached through a fragment too', async () => {
    const query = JSON.stringify({ query: '{ ...F } fragment F on Query { __type(name: "ApiKey") { name } }' });
    expect(codes((await (await post(h, query)).json()) as ErrorBody)).toEqual(['UNAUTHENTICATED']);
  });

  it('offers no tracing extension and no field suggestions', async () => {
    const body = (await (await post(h, JSON.stringify({ query: '{ viewr { role } }' }), bearer(h.secrets.VIEWER))).json()) as ErrorBody;
    expect(body.extensions).toBeUndefined();
    expect(body.errors?.[0]?.message).not.toMatch(/did you mean/i);
  });
});
