import type { ObjectRef } from '@pothos/core';
import { builder, type VigilTypes } from './builder.ts';

/** `<Name>Connection` and `<Name>Edge` (relay plugin), the names the contract gives them. */
export function connectionOf<T>(name: string, nodeRef: ObjectRef<VigilTypes, T>) {
  return builder.connectionObject({ type: nodeRef, name: `${name}Connection` }, { name: `${name}Edge` });
}

type ArgBuilder = Parameters<Parameters<typeof builder.queryFields>[0]>[0]['arg'];

/**
 * The page arguments of a connection field. Forward only: ids are
 * time-ordered and a cursor is the last id seen (services/pagination.ts), so
 * the contract has `first`/`after` and no `last`/`before`.
 */
export function pageArgs(arg: ArgBuilder) {
  return { first: arg.int(), after: arg.string() };
}

export const SeverityEnum = builder.enumType('Severity', { values: ['INFO', 'WARNING', 'CRITICAL'] as const });
export const RoleEnum = builder.enumType('Role', { values: ['VIEWER', 'OPERATOR', 'ADMIN'] as const });
