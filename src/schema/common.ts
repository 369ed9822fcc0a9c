import type { ObjectRef } from '@pothos/core';
import { nodeTypeOf } from '../core/ids.ts';
import type { Connection } from '../services/pagination.ts';
import { builder, type VigilTypes } from './builder.ts';

export const NodeRef = builder.interfaceRef<{ id: string }>('Node').implement({
  resolveType: (node) => nodeTypeOf(node.id) ?? null,
  fields: (t) => ({ id: t.exposeID('id') }),
});

export const PageInfoRef = builder
  .objectRef<Connection<unknown>['pageInfo']>('PageInfo')
  .implement({
    fields: (t) => ({
      hasNextPage: t.exposeBoolean('hasNextPage'),
      hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
      startCursor: t.exposeString('startCursor', { nullable: true }),
      endCursor: t.exposeString('endCursor', { nullable: true }),
    }),
  });

/** `<Name>Connection` and `<Name>Edge`, the Relay shapes the contract names. */
export function connectionOf<T>(name: string, nodeRef: ObjectRef<VigilTypes, T>) {
  const edge = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      node: t.field({ type: nodeRef, resolve: (e) => e.node as never }),
    }),
  });
  return builder.objectRef<Connection<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [edge], resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
    }),
  });
}

export const SeverityEnum = builder.enumType('Severity', { values: ['INFO', 'WARNING', 'CRITICAL'] as const });
export const RoleEnum = builder.enumType('Role', { values: ['VIEWER', 'OPERATOR', 'ADMIN'] as const });
