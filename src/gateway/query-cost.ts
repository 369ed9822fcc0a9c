import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { MAX_PAGE_SIZE } from '../services/pagination.ts';

/**
 * What a query may cost, in expected result values. A field costs one per
 * value it is expected to return: a connection multiplies its subtree by its
 * `first` (the maximum page size when `first` is a variable or missing, since
 * the client picks it after validation), an unpaginated list of objects by
 * UNPAGINATED_LIST_ESTIMATE. A mutation field also costs MUTATION_COST, since it
 * writes. The same figure is what the rate limiter charges.
 */
export const MAX_QUERY_COST = 50_000;
export const MUTATION_COST = 10;
// Lists such as a stream's detectors or an execution's steps hold a handful of items, and only OPERATOR and up add to them.
const UNPAGINATED_LIST_ESTIMATE = 10;

/** Cost of the costliest operation of a document; unknown fields cost 1 (validation refuses them anyway). */
export function documentCost(schema: GraphQLSchema, document: DocumentNode): number {
  const cached = costCache.get(document);
  if (cached !== undefined) return cached;
  const walk: Walk = { schema, fragments: new Map(), spreading: new Set() };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) walk.fragments.set(definition.name.value, definition);
  }
  let worst = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) worst = Math.max(worst, operationCost(walk, definition));
  }
  costCache.set(document, worst);
  return worst;
}

// Documents come from yoga's parse cache, so the same query text is costed once.
const costCache = new WeakMap<DocumentNode, number>();

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  /** Fragments being expanded on the current path: a cycle is refused by validation, here it must only not loop. */
  spreading: Set<string>;
}

function operationCost(walk: Walk, operation: OperationDefinitionNode): number {
  const root = walk.schema.getRootType(operation.operation);
  if (!root) return 0;
  return selectionCost(walk, operation.selectionSet, root, 1, operation.operation === 'mutation' ? MUTATION_COST : 0);
}

function selectionCost(walk: Walk, selectionSet: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number, perField = 0): number {
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const name = selection.name.value;
      const fragment = walk.fragments.get(name);
      if (!fragment || walk.spreading.has(name)) continue;
      walk.spreading.add(name);
      cost += selectionCost(walk, fragment.selectionSet, narrowed(walk, parent, fragment.typeCondition.name.value), multiplier, perField);
      walk.spreading.delete(name);
      continue;
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? narrowed(walk, parent, selection.typeCondition.name.value) : parent;
      cost += selectionCost(walk, selection.selectionSet, type, multiplier, perField);
      continue;
    }
    cost += multiplier * (1 + perField);
    const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
    if (!field || !selection.selectionSet) continue;
    const child = getNamedType(field.type);
    if (!isCompositeType(child)) continue;
    let factor = 1;
    if (field.args.some((arg) => arg.name === 'first')) {
      const first = selection.arguments?.find((arg) => arg.name.value === 'first');
      factor = first?.value.kind === Kind.INT ? clampPage(Number(first.value.value)) : MAX_PAGE_SIZE;
    } else if (isListType(getNullableType(field.type)) && selection.name.value !== 'edges') {
      // `edges` is already counted by its connection's `first`.
      factor = UNPAGINATED_LIST_ESTIMATE;
    }
    cost += selectionCost(walk, selection.selectionSet, child, multiplier * factor);
  }
  return cost;
}

function narrowed(walk: Walk, parent: GraphQLCompositeType, typeName: string): GraphQLCompositeType {
  const type = walk.schema.getType(typeName);
  return isCompositeType(type) ? type : parent;
}

function clampPage(first: number): number {
  return Math.min(MAX_PAGE_SIZE, Math.max(1, first));
}

/** Refuses, during validation, a document whose costliest operation is above MAX_QUERY_COST. */
export const maxCostRule: ValidationRule = (context) => ({
  Document: {
    leave(node) {
      const cost = documentCost(context.getSchema(), node);
      if (cost > MAX_QUERY_COST) {
        context.reportError(
          new GraphQLError(
            `Query cost limit of ${MAX_QUERY_COST} exceeded, found ${cost}. A list's cost is its "first" (${MAX_PAGE_SIZE} when "first" is a variable or missing) times the cost of each item: ask for smaller pages or fewer nested lists.`,
            { extensions: { code: 'BAD_USER_INPUT' } },
          ),
        );
      }
    },
  },
});
