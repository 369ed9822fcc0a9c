import type { ApiKey } from '../generated/prisma/client.ts';
import { builder } from './builder.ts';
import { connectionOf, pageArgs, RoleEnum } from './common.ts';
import { principalOf } from './guard.ts';
import { AuditLogFilterInput, ListOrderEnum, ORDER_BY_DESCRIPTION } from './lifecycle-fields.ts';
import { ApiKeyRef, AuditEntryRef, ViewerRef } from './refs.ts';
import { ADMIN_KEY_ID } from '../services/api-keys.ts';

ApiKeyRef.implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

ViewerRef.implement({
  fields: (t) => ({
    apiKey: t.field({
      type: ApiKeyRef,
      resolve: (principal) => {
        if (principal.keyId === ADMIN_KEY_ID) {
          // The configured admin secret has no row; describe it without inventing one.
          return { id: ADMIN_KEY_ID, name: principal.name, role: 'ADMIN' as const, secretHash: '', createdAt: new Date(0), lastUsedAt: null, revokedAt: null };
        }
        return principal.keyId;
      },
    }),
    role: t.expose('role', { type: RoleEnum }),
  }),
});

const CreatedApiKeyRef = builder
  .objectRef<{ apiKey: ApiKey; secret: string }>('CreatedApiKey')
  .implement({
    fields: (t) => ({
      apiKey: t.field({ type: ApiKeyRef, resolve: (c) => c.apiKey }),
      secret: t.exposeString('secret', { description: 'Shown once; only a hash is stored.' }),
    }),
  });

AuditEntryRef.implement({
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
    actor: t.exposeString('actor'),
    action: t.exposeString('action'),
    target: t.exposeString('target'),
    outcome: t.exposeString('outcome', { description: 'ALLOWED, REFUSED (not authorised) or FAILED (refused input or error).' }),
    detail: t.expose('detail', { type: 'JSON', nullable: true }),
    hash: t.exposeString('hash', { description: 'Hash chaining this entry to the previous one (tamper evidence).' }),
  }),
});

const AuditEntryConnection = connectionOf('AuditEntry', AuditEntryRef);

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    authScopes: { role: 'VIEWER' },
    resolve: (_root, _args, ctx) => principalOf(ctx),
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    authScopes: { role: 'ADMIN' },
    resolve: (_root, _args, ctx) => ctx.services.apiKeys.list(),
  }),
  auditLog: t.field({
    type: AuditEntryConnection,
    authScopes: { role: 'ADMIN' },
    args: {
      filter: t.arg({ type: AuditLogFilterInput, description: 'Which entries: by actor, actions, target, outcome and time range; absent: all.' }),
      ...pageArgs(t.arg),
      orderBy: t.arg({ type: ListOrderEnum, description: ORDER_BY_DESCRIPTION }),
    },
    resolve: (_root, args, ctx) => ctx.services.auditEntries.list(args.filter, args),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKeyRef,
    authScopes: { role: 'ADMIN' },
    args: { name: t.arg.string({ required: true }), role: t.arg({ type: RoleEnum, required: true }) },
    audit: (args) => ({ target: args.name, detail: args }),
    resolve: (_root, args, ctx) => ctx.services.apiKeys.create(args.name, args.role),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }) },
    audit: (args) => ({ target: args.id }),
    resolve: (_root, args, ctx) => ctx.services.apiKeys.revoke(args.id),
  }),
}));
