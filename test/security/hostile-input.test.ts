import { GraphQLClient } from 'graphql-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/generated/prisma/enums.ts';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';

/**
 * Hostile input over HTTP, as VIEWER, as ADMIN and with no key: always
 * BAD_USER_INPUT naming the field, never INTERNAL; a refused mutation always
 * leaves an audit entry; the chain verifies afterwards.
 */
let h: Harness;
let url: string;
let stream: { id: string };
const callers: Record<'VIEWER' | 'ADMIN' | 'none', { secret?: string; actor: string }> = { VIEWER: { actor: '' }, ADMIN: { actor: '' }, none: { actor: 'anonymous' } };

beforeAll(async () => {
  h = await startHarness();
  url = h.url;
  for (const role of ['VIEWER', 'ADMIN'] as Role[]) {
    const name = uniqueName(`hostile-${role.toLowerCase()}`);
    const key = await h.createKey(role, name);
    callers[role as 'VIEWER' | 'ADMIN'] = { secret: key.secret, actor: `${name} (${key.id})` };
  }
  stream = await registerLatencyStream(h);
});
afterAll(async () => {
  await h?.close();
});

const client = (secret?: string) => new GraphQLClient(url, { headers: secret ? { authorization: `Bearer ${secret}` } : {} });
const lastSeq = async () => (await h.runtime.services.ports.db.auditEntry.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true } }))?.seq ?? 0n;

const REGISTER = `mutation($input: RegisterStreamInput!) { registerStream(input: $input) { id } }`;
const UPDATE_SCHEMA = `mutation($id: ID!, $schema: JSON!) { updateStreamSchema(id: $id, schema: $schema) { id } }`;
const CREATE_KEY = `mutation($name: String!) { createApiKey(name: $name, role: VIEWER) { secret } }`;

const protoSchema = () => JSON.parse('{"type": "object", "properties": {"__proto__": {"type": "string"}}}') as unknown;
let deep: unknown = 1;
for (let i = 0; i < 3000; i++) deep = { a: deep };

const HOSTILE: { name: string; action: string; document: string; variables: () => Record<string, unknown>; field: RegExp; problem: RegExp }[] = [
  {
    name: 'a "__proto__" key in a JSON argument',
    action: 'updateStreamSchema',
    document: UPDATE_SCHEMA,
    variables: () => ({ id: stream.id, schema: protoSchema() }),
    field: /^schema\.properties\.__proto__$/,
    problem: /"__proto__" is not allowed/,
  },
  {
    name: 'a "__proto__" key inside an input object',
    action: 'registerStream',
    document: REGISTER,
    variables: () => ({ input: { name: uniqueName('p'), topic: uniqueName('p'), schema: protoSchema(), valueFields: ['x'] } }),
    field: /^input\.schema\.properties\.__proto__$/,
    problem: /"__proto__" is not allowed/,
  },
  {
    name: 'a lone surrogate',
    action: 'registerStream',
    document: REGISTER,
    variables: () => ({ input: { name: 'x\uD800', topic: uniqueName('s'), schema: { type: 'object' }, valueFields: ['x'] } }),
    field: /^input\.name$/,
    problem: /surrogate/,
  },
  { name: 'a NUL byte in a string variable', action: 'createApiKey', document: CREATE_KEY, variables: () => ({ name: 'a\u0000b' }), field: /^name$/, problem: /NUL/ },
  {
    name: '3,000-deep JSON',
    action: 'updateStreamSchema',
    document: UPDATE_SCHEMA,
    variables: () => ({ id: stream.id, schema: deep }),
    field: /^schema(\.a){64}$/,
    problem: /nested deeper than 64/,
  },
];

describe.each(Object.keys(callers) as (keyof typeof callers)[])('hostile input as %s', (caller) => {
  it.each(HOSTILE)('$name: BAD_USER_INPUT naming the field, and a FAILED audit entry', async (hostile) => {
    const { secret, actor } = callers[caller];
    const seq = await lastSeq();
    const errors = await graphqlErrors(client(secret).request(hostile.document, hostile.variables()));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: expect.stringMatching(hostile.field) });
    expect(errors[0]!.message).toMatch(hostile.problem);

    const entries = await h.runtime.services.ports.db.auditEntry.findMany({ where: { seq: { gt: seq }, actor, action: hostile.action }, orderBy: { seq: 'asc' } });
    // Callers without a key share the actor "anonymous" with other test files: only entries naming this field are ours.
    const ours = entries.filter((e) => (e.detail as { field?: string }).field === errors[0]!.extensions.field);
    expect(ours.map((e) => [e.outcome, e.detail])).toEqual([
      ['FAILED', { sanitised: true, reason: expect.stringMatching(hostile.problem), excerpt: expect.any(String), code: 'BAD_USER_INPUT', field: errors[0]!.extensions.field }],
    ]);
  });
});

describe('the edge', () => {
  it('refuses a hostile literal in the query text the same way', async () => {
    const seq = await lastSeq();
    const errors = await graphqlErrors(client(callers.ADMIN.secret).request(`mutation { createApiKey(name: "a\\u0000b", role: VIEWER) { secret } }`));
    expect(errors.map((e) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field: 'name' }]);
    const entries = await h.runtime.services.ports.db.auditEntry.findMany({ where: { seq: { gt: seq }, actor: callers.ADMIN.actor } });
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([['createApiKey', 'FAILED']]);
  });

  it('refuses hostile query arguments too, without an audit entry (nothing was attempted)', async () => {
    const seq = await lastSeq();
    const errors = await graphqlErrors(client(callers.VIEWER.secret).request(`query($n: String) { stream(name: $n) { id } }`, { n: 'x\uDC00' }));
    expect(errors.map((e) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field: 'name' }]);
    expect(await h.runtime.services.ports.db.auditEntry.count({ where: { seq: { gt: seq }, actor: callers.VIEWER.actor } })).toBe(0);
  });

  it('lets ordinary unicode through: accents, CJK, emoji with surrogate pairs', async () => {
    const name = `Ünïcødé 日本 😀🚀👩‍👩‍👧 ${uniqueName('k')}`;
    const result = await client(callers.ADMIN.secret).request<{ createApiKey: { secret: string } }>(CREATE_KEY, { name });
    expect(result.createApiKey.secret).toMatch(/^vgl_/);
    expect(await h.runtime.services.ports.db.apiKey.count({ where: { name } })).toBe(1);
  });

  it('leaves a chain that still verifies', async () => {
    expect(await h.runtime.services.audit.verify()).toMatchObject({ ok: true });
  });
});
