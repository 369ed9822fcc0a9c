import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/generated/prisma/enums.ts';
import '../../src/schema/access-plugin.ts';
import type { Context } from '../../src/schema/context.ts';
import { buildSchema } from '../../src/schema/index.ts';

/**
 * The access rules are part of the schema's build (src/schema/access-plugin.ts):
 * a root field without authScopes, or a mutation without audit, cannot ship.
 * Each case builds a small schema with the same plugins as the real one.
 */
function smallBuilder() {
  const builder = new SchemaBuilder<{ Context: Context; AuthScopes: { role: Role } }>({
    plugins: [ScopeAuthPlugin, 'vigilAccess'],
    scopeAuth: { authScopes: () => ({ role: () => true }) },
  });
  builder.queryType({});
  return builder;
}

describe('access rules at build time', () => {
  it('refuses to build a query field without authScopes', () => {
    const builder = smallBuilder();
    builder.queryField('open', (t) => t.string({ resolve: () => 'x' }));
    expect(() => builder.toSchema()).toThrow(/Query\.open has no authScopes/);
  });

  it('refuses to build a subscription field without authScopes', () => {
    const builder = smallBuilder();
    builder.queryField('ok', (t) => t.string({ authScopes: { role: 'VIEWER' }, resolve: () => 'x' }));
    builder.subscriptionType({});
    builder.subscriptionField('feed', (t) =>
      t.string({
        subscribe: async function* () {
          yield 'x';
        },
        resolve: (value) => value,
      }),
    );
    expect(() => builder.toSchema()).toThrow(/Subscription\.feed has no authScopes/);
  });

  it('refuses to build a mutation without audit, even with authScopes', () => {
    const builder = smallBuilder();
    builder.queryField('ok', (t) => t.string({ authScopes: { role: 'VIEWER' }, resolve: () => 'x' }));
    builder.mutationType({});
    // @ts-expect-error the type of a mutation's options requires `audit`; the build refuses it as well.
    builder.mutationField('change', (t) => t.string({ authScopes: { role: 'ADMIN' }, resolve: () => 'x' }));
    expect(() => builder.toSchema()).toThrow(/Mutation\.change has no audit/);
  });

  it('builds once every root field declares its rule (the check above has teeth only if this passes)', () => {
    const builder = smallBuilder();
    builder.queryField('ok', (t) => t.string({ authScopes: { role: 'VIEWER' }, resolve: () => 'x' }));
    builder.mutationType({});
    builder.mutationField('change', (t) =>
      t.string({ authScopes: { role: 'ADMIN' }, audit: () => ({ target: 'x' }), resolve: () => 'x' }),
    );
    expect(() => builder.toSchema()).not.toThrow();
  });

  it('leaves fields of other types alone', () => {
    const builder = smallBuilder();
    const Thing = builder.objectRef<{ name: string }>('Thing').implement({ fields: (t) => ({ name: t.exposeString('name') }) });
    builder.queryField('thing', (t) => t.field({ type: Thing, authScopes: { role: 'VIEWER' }, resolve: () => ({ name: 'x' }) }));
    expect(() => builder.toSchema()).not.toThrow();
  });

  it('the real schema builds: every root field of Vigil has a rule, every mutation is audited', () => {
    const schema = buildSchema();
    expect(Object.keys(schema.getMutationType()!.getFields()).length).toBeGreaterThan(10);
  });
});
