import { GraphQLError, Kind, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../schema/context.ts';
import { toClientError } from '../schema/errors.ts';

/** Validation errors returned for one document: enough to fix a query, too few to make a large response of a small one. */
export const MAX_VALIDATION_ERRORS = 20;

export function useValidationErrorCap(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length <= MAX_VALIDATION_ERRORS) return;
        setResult([
          ...result.slice(0, MAX_VALIDATION_ERRORS),
          new GraphQLError(`${result.length - MAX_VALIDATION_ERRORS} more validation errors not shown`, { extensions: { code: 'BAD_USER_INPUT' } }),
        ]);
      };
    },
  };
}

/**
 * The schema is public (schema.graphql, the SDK), but a caller without a
 * key has no use for introspecting a running server: mapping one is the
 * first step of an attack, so introspection needs a key (any role).
 */
export function useIntrospectionPolicy(): Plugin<Context> {
  const refuse = (document: DocumentNode, ctx: Context) =>
    !ctx.principal && asksIntrospection(document)
      ? toClientError(new GraphQLError('introspection needs an API key', { extensions: { code: 'UNAUTHENTICATED' } }), ctx.log)
      : undefined;
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refusal = refuse(args.document, args.contextValue);
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
  };
}

/** Whether an operation selects __schema or __type, which only the query root offers. */
function asksIntrospection(document: DocumentNode): boolean {
  const fragments = new Map<string, SelectionSetNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition.selectionSet);
  }
  const seen = new Set<string>();
  const visit = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === '__schema' || selection.name.value === '__type';
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      const name = selection.name.value;
      if (seen.has(name)) return false;
      seen.add(name);
      const spread = fragments.get(name);
      return spread ? visit(spread) : false;
    });
  return document.definitions.some((definition) => definition.kind === Kind.OPERATION_DEFINITION && visit(definition.selectionSet));
}
