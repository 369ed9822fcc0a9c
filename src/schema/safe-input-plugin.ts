import {
  getOperationAST,
  GraphQLError,
  Kind,
  valueFromASTUntyped,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Services } from '../services/container.ts';
import {
  childPath,
  DEFAULT_SAFE_INPUT_LIMITS,
  FORBIDDEN_KEYS,
  findUnsafeInput,
  sanitisedDetail,
  textProblem,
  type SafeInputLimits,
  type UnsafeInput,
} from '../core/safe-input.ts';
import type { Context } from './context.ts';
import { auditActor, isCredentialKey } from './guard.ts';

/**
 * Refuses hostile input (see safe-input.ts) in every operation's variables
 * and literal argument values before anything executes, with BAD_USER_INPUT
 * naming the field. A refused mutation still leaves a FAILED audit entry,
 * since no resolver (and so no runAudited()) runs for it.
 */
export function useSafeInput(services: Services, limits: Partial<SafeInputLimits> = {}): Plugin {
  const effective: SafeInputLimits = {
    ...DEFAULT_SAFE_INPUT_LIMITS,
    // publishEvents takes events up to VIGIL_MAX_EVENT_BYTES: a string inside one must not be refused here first.
    maxStringLength: Math.max(DEFAULT_SAFE_INPUT_LIMITS.maxStringLength, services.ports.config.maxEventBytes),
    ...limits,
  };
  const guard = async (args: ExecutionArgs, stop: (result: ExecutionResult) => void): Promise<void> => {
    const unsafe = findUnsafeOperationInput(args.document, args.operationName, args.variableValues, effective);
    if (!unsafe) return;
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation === 'mutation') await auditRefusal(services, args.contextValue as Context, args, operation, unsafe);
    stop({ errors: [new GraphQLError(`${unsafe.field}: ${unsafe.problem}`, { extensions: { code: 'BAD_USER_INPUT', field: unsafe.field } })] });
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
  };
}

async function auditRefusal(services: Services, ctx: Context, args: ExecutionArgs, operation: OperationDefinitionNode, unsafe: UnsafeInput): Promise<void> {
  const variables = args.variableValues ?? {};
  const shown = Object.keys(variables).length > 0 ? { variables } : { arguments: literalArguments(operation) };
  try {
    await services.audit.append({
      actor: auditActor(ctx),
      action: rootFieldNames(operation.selectionSet, args.document).join(',') || 'mutation',
      target: '',
      detail: sanitisedDetail(shown, unsafe, { code: 'BAD_USER_INPUT', field: unsafe.field }, isCredentialKey),
      outcome: 'FAILED',
    });
  } catch (error) {
    // The refusal stands without its entry: the input is refused either way.
    ctx.log?.error({ err: error }, 'could not audit a refused mutation');
  }
}

/**
 * The first unsafe value in the operation: literal argument values (and
 * variable defaults) first, then the variables, each named by the argument
 * path it is used at (`input.schema...` for `registerStream(input: $in)`).
 */
export function findUnsafeOperationInput(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: SafeInputLimits = DEFAULT_SAFE_INPUT_LIMITS,
): UnsafeInput | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  const usedAt = new Map<string, string>();
  let found: UnsafeInput | undefined;
  const definitions = [operation, ...document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)];
  for (const definition of definitions) {
    visit(definition, {
      Argument(node) {
        found ??= findUnsafeLiteral(node.value, node.name.value, limits, usedAt);
      },
    });
  }
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (FORBIDDEN_KEYS.has(name)) found ??= { field: `$${name}`, problem: `the variable name "${name}" is not allowed` };
    if (definition.defaultValue) found ??= findUnsafeLiteral(definition.defaultValue, usedAt.get(name) ?? name, limits, usedAt);
  }
  if (found) return found;
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (!variables || !Object.hasOwn(variables, name) || !holdsUnsafeInput(variables[name], limits)) continue;
    found = findUnsafeInput(variables[name], usedAt.get(name) ?? name, limits);
    if (found) return found;
  }
  return undefined;
}

/**
 * Whether findUnsafeInput would find something in `value`: the same checks,
 * without the path it builds and the entry it allocates for every node on the
 * way (a publishEvents of 1000 events is some 4000 nodes, each checked on
 * every call). Only a value that holds something pays for the walk that names it.
 */
export function holdsUnsafeInput(value: unknown, limits: SafeInputLimits): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const current = values.pop();
    const depth = depths.pop()!;
    if (typeof current === 'string') {
      if (textProblem(current, limits)) return true;
      continue;
    }
    if (current === null || typeof current !== 'object' || current instanceof Date) continue;
    if (depth >= limits.maxDepth) return true;
    if (Array.isArray(current)) {
      for (const item of current) {
        values.push(item);
        depths.push(depth + 1);
      }
      continue;
    }
    for (const key of Object.keys(current)) {
      if (FORBIDDEN_KEYS.has(key) || textProblem(key, limits)) return true;
      values.push((current as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  return false;
}

/** Like findUnsafeInput, over a literal in the query text; records where each variable is used. */
function findUnsafeLiteral(root: ValueNode, rootPath: string, limits: SafeInputLimits, usedAt: Map<string, string>): UnsafeInput | undefined {
  const pending: { node: ValueNode; path: string; depth: number }[] = [{ node: root, path: rootPath, depth: 0 }];
  while (pending.length > 0) {
    const { node, path, depth } = pending.pop()!;
    if (node.kind === Kind.VARIABLE) {
      if (!usedAt.has(node.name.value)) usedAt.set(node.name.value, path);
    } else if (node.kind === Kind.STRING) {
      const problem = textProblem(node.value, limits);
      if (problem) return { field: path, problem };
    } else if (node.kind === Kind.LIST || node.kind === Kind.OBJECT) {
      if (depth >= limits.maxDepth) return { field: path, problem: `is nested deeper than ${limits.maxDepth} levels` };
      const children =
        node.kind === Kind.LIST
          ? node.values.map((value, index) => ({ node: value, path: childPath(path, index), depth: depth + 1 }))
          : node.fields.map((field) => ({ node: field.value, path: childPath(path, field.name.value), depth: depth + 1 }));
      if (node.kind === Kind.OBJECT) {
        const forbidden = node.fields.find((field) => FORBIDDEN_KEYS.has(field.name.value));
        if (forbidden) {
          return { field: childPath(path, forbidden.name.value), problem: `the key "${forbidden.name.value}" is not allowed (it reads as prototype access)` };
        }
      }
      for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
    }
  }
  return undefined;
}

/** The mutation's root fields, for the audit entry's action (through fragments at the root too). */
function rootFieldNames(selectionSet: SelectionSetNode, document: DocumentNode, seen = new Set<string>()): string[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFieldNames(selection.selectionSet, document, seen);
    if (seen.has(selection.name.value)) return [];
    seen.add(selection.name.value);
    const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
    return fragment?.kind === Kind.FRAGMENT_DEFINITION ? rootFieldNames(fragment.selectionSet, document, seen) : [];
  });
}

/** The root fields' literal arguments as values, for the excerpt of an entry (credentials are redacted there). */
function literalArguments(operation: OperationDefinitionNode): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    fields[selection.name.value] = Object.fromEntries((selection.arguments ?? []).map((arg) => [arg.name.value, valueFromASTUntyped(arg.value)]));
  }
  return fields;
}
