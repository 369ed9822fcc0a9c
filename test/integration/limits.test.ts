import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_LIMITS } from '../../src/gateway/server.ts';
import { MAX_PAGE_SIZE } from '../../src/services/pagination.ts';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, LATENCY_SCHEMA, REGISTER_STREAM, startHarness, type Harness } from '../support/harness.ts';

/**
 * The gateway refuses query shapes used to exhaust or map a server, before
 * running them, with the contract's BAD_USER_INPUT: too deep, too many
 * aliases, oversized pages; and it does not help a caller guess names.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A query whose deepest path has `depth` fields, the leaf included: streams.edges.node.detectors.stream.detectors... */
function nested(depth: number): string {
  const path = ['streams(first: 1)', 'edges', 'node'];
  while (path.length < depth - 1) path.push(path.length % 2 === 1 ? 'detectors' : 'stream');
  return `{ ${path.reduceRight((inner, field) => `${field} { ${inner} }`, 'id')} }`;
}

function aliased(count: number): string {
  return `{ ${Array.from({ length: count }, (_, i) => `v${i}: viewer { role }`).join(' ')} }`;
}

const codes = (errors: { extensions: Record<string, unknown> }[]) => errors.map((e) => e.extensions.code);

describe('query depth', () => {
  it('the limit the tests below rely on is 12', () => {
    expect(QUERY_LIMITS.maxDepth).toBe(12);
  });

  it('accepts a query 12 levels deep', async () => {
    expect(nested(12).match(/\{/g)).toHaveLength(12);
    await expect(h.admin.request(nested(12))).resolves.toBeDefined();
  });

  // Nested lists also run over the cost limit, which is reported beside the depth.
  it.each([13, 20])('refuses a query %i levels deep with BAD_USER_INPUT naming the depth limit', async (depth) => {
    const errors = await graphqlErrors(h.admin.request(nested(depth)));
    expect(new Set(codes(errors))).toEqual(new Set(['BAD_USER_INPUT']));
    const depthError = errors.find((e) => /depth limit of 12\b/i.test(e.message));
    expect(depthError?.message).toContain(String(depth));
  });
});

describe('page size', () => {
  it(`accepts first: ${MAX_PAGE_SIZE}`, async () => {
    const result = await h.admin.request<{ streams: { edges: unknown[] } }>(`{ streams(first: ${MAX_PAGE_SIZE}) { edges { cursor } } }`);
    expect(result.streams.edges.length).toBeLessThanOrEqual(MAX_PAGE_SIZE);
  });

  it('refuses streams(first: 1000) with BAD_USER_INPUT on field first, saying the maximum is 100', async () => {
    const errors = await graphqlErrors(h.admin.request(`{ streams(first: 1000) { edges { cursor } } }`));
    expect(codes(errors).every((c) => c === 'BAD_USER_INPUT')).toBe(true);
    const first = errors.filter((e) => e.extensions.field === 'first');
    expect(first).toHaveLength(1);
    expect(first[0]?.message).toMatch(/\b100\b/);
  });

  it('refuses the same page size passed as a variable, on field first', async () => {
    const errors = await graphqlErrors(h.admin.request(`query($n: Int) { streams(first: $n) { edges { cursor } } }`, { n: 1000 }));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(errors[0]?.message).toMatch(/\b100\b/);
  });

  it('refuses first: 0 as well', async () => {
    const [error] = await graphqlErrors(h.admin.request(`{ streams(first: 0) { edges { cursor } } }`));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});

describe('aliases', () => {
  it('accepts 15 aliases', async () => {
    const result = await h.admin.request<Record<string, { role: string }>>(aliased(15));
    expect(Object.keys(result)).toHaveLength(15);
  });

  it('refuses 16 aliases with BAD_USER_INPUT', async () => {
    const errors = await graphqlErrors(h.admin.request(aliased(16)));
    expect(codes(errors)).toEqual(['BAD_USER_INPUT']);
    expect(errors[0]?.message).toMatch(/alias/i);
    expect(errors[0]?.message).toContain('15');
  });
});

describe('unknown names', () => {
  // Each name is one typo away from a real one, so graphql-js would suggest it if nothing hid the suggestion.
  it.each([
    ['an unknown root field', `{ streamz { edges { cursor } } }`, 'streamz', '"streams"'],
    ['an unknown nested field', `{ viewer { rol } }`, 'rol', '"role"'],
    ['an unknown argument', `{ streams(frist: 1) { edges { cursor } } }`, 'frist', '"first"'],
    ['an unknown input field', `{ anomalies(filter: { streamI: "x" }) { edges { cursor } } }`, 'streamI', '"streamId"'],
    ['an unknown type', `query($id: ID!) { node(id: $id) { ... on Strem { id } } }`, 'Strem', '"Stream"'],
    ['an unknown enum value', `{ anomalies(filter: { minSeverity: CRITICL }) { edges { cursor } } }`, 'CRITICL', '"CRITICAL"'],
  ])('refuses %s without suggesting a name', async (_label, query, unknown, suggestion) => {
    const errors = await graphqlErrors(h.admin.request(query, { id: 'str_unknown' }));
    expect(codes(errors)).toEqual(['BAD_USER_INPUT']);
    expect(errors[0]?.message).toContain(unknown);
    expect(errors[0]?.message).not.toMatch(/did you mean/i);
    expect(errors[0]?.message).not.toContain(suggestion);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown input field', { filter: { streamI: 'x' } }, '"streamId"'],
    ['an unknown enum value', { filter: { minSeverity: 'CRITICL' } }, '"CRITICAL"'],
  ])('refuses %s passed in a variable without suggesting a name', async (_label, variables, suggestion) => {
    const errors = await graphqlErrors(h.admin.request(`query($filter: AnomalyFilter) { anomalies(filter: $filter) { edges { cursor } } }`, variables));
    expect(codes(errors)).toEqual(['BAD_USER_INPUT']);
    expect(errors[0]?.message).not.toMatch(/did you mean/i);
    expect(errors[0]?.message).not.toContain(suggestion);
  });
});

describe('variables of the wrong type', () => {
  it('name the offending variable in extensions.field', async () => {
    const [error] = await graphqlErrors(h.admin.request(`query($n: Int) { streams(first: $n) { edges { cursor } } }`, { n: 'many' }));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'n' });
  });

  it('name the offending input path in extensions.field, and nothing is registered', async () => {
    const name = uniqueName('lim');
    const [error] = await graphqlErrors(
      h.admin.request(REGISTER_STREAM, { input: { name, topic: name, schema: LATENCY_SCHEMA, valueFields: ['latency_ms'], partitions: 'three' } }),
    );
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.partitions' });
    expect(await h.runtime.services.ports.db.stream.count({ where: { name } })).toBe(0);
  });
});
