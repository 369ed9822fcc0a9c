import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { type AuthFailure } from '@pothos/plugin-scope-auth';
import { GraphQLError, Kind } from 'graphql';
import type { Role } from '../generated/prisma/enums.ts';
import { ForbiddenError } from '../core/errors.ts';
import { nodeTypeOf } from '../core/ids.ts';
import './access-plugin.ts';
import type { Context } from './context.ts';
import { authorize, principalOf } from './guard.ts';

/**
 * The one Pothos builder; every file under src/schema adds its domain's types to it.
 * Plugins, in wrapping order: scope-auth (roles, `authScopes: { role }` on every
 * root field), access-plugin.ts (refuses a root field without a rule, audits
 * mutations), relay (Node, node(id), connection types), dataloader (batched loads).
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  AuthScopes: { role: Role };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string };
  };
}>({
  plugins: [ScopeAuthPlugin, 'vigilAccess', RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // authorize() throws the error the caller gets (UNAUTHENTICATED, FORBIDDEN): keep it as the failure.
    treatErrorsAsUnauthorized: true,
    // A subscription is refused when it starts, not at its first event.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({ role: (required: Role) => Boolean(authorize(ctx, required)) }),
    unauthorizedError: (_parent, _ctx, _info, result) => refusalOf(result.failure) ?? new ForbiddenError(result.message),
  },
  relay: {
    // Ids stay as the service makes them ("str_01J..."): their prefix names the type (core/ids.ts).
    encodeGlobalID: (_typename, id) => String(id),
    decodeGlobalID: (globalID) => ({ typename: nodeTypeOf(globalID) ?? '', id: globalID }),
    cursorType: 'String',
    clientMutationId: 'omit',
    nodesQueryOptions: false,
    nodeQueryOptions: {
      authScopes: { role: 'VIEWER' },
      // An id of no known type is no node: null, as for an unknown id of a known type.
      resolve: (_root, args, ctx, _info, resolveNode) => (mayReadNode(ctx, args.id.typename) ? resolveNode(args.id) : null),
    },
    nodeTypeOptions: {},
    pageInfoTypeOptions: {},
  },
});

/** Keys and the audit log are ADMIN-only through their own fields; node(id) must not be a side door. */
const ADMIN_NODES = new Set(['ApiKey', 'AuditEntry']);

function mayReadNode(ctx: Context, typename: string): boolean {
  if (!typename) return false;
  return !ADMIN_NODES.has(typename) || principalOf(ctx).role === 'ADMIN';
}

/** The error authorize() threw inside a scope-auth failure (first one found), if any. */
function refusalOf(failure: AuthFailure): Error | undefined {
  if ('error' in failure && failure.error instanceof Error) return failure.error;
  if ('failures' in failure) {
    for (const inner of failure.failures) {
      const found = refusalOf(inner);
      if (found) return found;
    }
  }
  return undefined;
}

/** The builder's resolved type parameters, for helpers that take refs generically. */
export type VigilTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date-time in UTC, e.g. 2026-11-30T10:00:00.000Z.',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString()),
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return parseDateTime(ast.value);
  },
});

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new GraphQLError('DateTime must be an ISO-8601 string such as 2026-11-30T10:00:00Z');
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new GraphQLError(`"${value}" is not a valid date-time`);
  return date;
}

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
