import { isPlainObject } from '../core/param-checks.ts';

/**
 * Caps on a stream's data contract, checked before ajv sees the schema
 * (before the meta-schema check and before compiling). ajv's compile time
 * and the compiled code grow with the schema: a 200k-entry enum once froze
 * the process for minutes, at registration and again at every start. The
 * walk below is iterative and stops at the first problem, so it costs at
 * most a few milliseconds whatever it is given.
 *
 * Constants rather than configuration on purpose: the gateway (registration)
 * and every worker (enforcement) must agree, or a schema one process accepts
 * would be refused by another. Documented in docs/security.md.
 */
export const STREAM_SCHEMA_LIMITS = {
  /** Size of the schema serialized as JSON, in UTF-8 bytes. */
  maxBytes: 64 * 1024,
  /** JSON values in the schema document: every subschema, keyword value, list entry and nested value. */
  maxNodes: 10_000,
  /** Nesting depth: the root schema is level 1, each subschema (properties/x, items, allOf/0, ...) or nested value one more. */
  maxDepth: 32,
  /** Entries of any list: enum, examples, an array const or default, required, allOf... */
  maxListEntries: 1_000,
  /** Names in one `properties` object. */
  maxProperties: 1_000,
  /** `pattern` keywords plus `patternProperties` names in the whole schema. */
  maxPatterns: 32,
  /** Characters in one pattern. */
  maxPatternLength: 512,
  /**
   * Size of one pattern compiled for RE2 (its instruction count, e.g. 40 for a UUID pattern, 2003 for
   * `^[a-z]{1,1000}$`). Matching is linear in the input, times a factor that grows with this size.
   */
  maxPatternProgramSize: 1_000,
} as const;

/** Where in the schema (a JSON pointer, "" for the root) and what is wrong. */
export interface SchemaProblem {
  pointer: string;
  message: string;
}

/** A regular expression of the schema (a `pattern` value or a `patternProperties` name) and where it is. */
export interface FoundPattern {
  pointer: string;
  source: string;
}

export type SchemaScan = { ok: true; patterns: FoundPattern[] } | { ok: false; problem: SchemaProblem };

/** The problem as one line, e.g. `/properties/status/enum has 200000 entries; the limit is 1000 (maxListEntries)`. */
export function describeProblem(problem: SchemaProblem): string {
  return `${problem.pointer === '' ? 'the schema' : problem.pointer} ${problem.message}`;
}

// Keywords whose value is one subschema, a list of subschemas, or a map of name -> subschema (drafts 07 and 2020-12).
const SUBSCHEMA = new Set([
  'additionalItems',
  'additionalProperties',
  'contains',
  'contentSchema',
  'else',
  'if',
  'items',
  'not',
  'propertyNames',
  'then',
  'unevaluatedItems',
  'unevaluatedProperties',
]);
const SUBSCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']);
const SUBSCHEMA_MAP = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies']);
const REFERENCES = new Set(['$ref', '$dynamicRef', '$recursiveRef']);

type Role = 'schema' | 'map' | 'list' | 'data';

interface Frame {
  value: unknown;
  pointer: string;
  depth: number;
  role: Role;
}

function pointerTo(parent: string, key: string | number): string {
  return `${parent}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

function over(pointer: string, what: string, limit: keyof typeof STREAM_SCHEMA_LIMITS): SchemaProblem {
  return { pointer, message: `${what}; the limit is ${STREAM_SCHEMA_LIMITS[limit]} (${limit})` };
}

/**
 * Checks `schema` against STREAM_SCHEMA_LIMITS and that every `$ref` is local
 * ("#..."), and lists its regular expressions for the caller to compile.
 * The first problem found is returned; nothing is compiled here.
 */
export function scanStreamSchema(schema: unknown): SchemaScan {
  const limits = STREAM_SCHEMA_LIMITS;
  const patterns: FoundPattern[] = [];
  const stack: Frame[] = [{ value: schema, pointer: '', depth: 1, role: 'schema' }];
  let nodes = 0;
  // A lower bound on the serialized size, so a huge string is refused before anything serializes it.
  let characters = 0;
  const addPattern = (pointer: string, source: string): SchemaProblem | undefined => {
    patterns.push({ pointer, source });
    if (patterns.length > limits.maxPatterns) return over(pointer, `is regular expression number ${patterns.length} (pattern and patternProperties)`, 'maxPatterns');
    if (source.length > limits.maxPatternLength) return over(pointer, `is a pattern of ${source.length} characters`, 'maxPatternLength');
    return undefined;
  };
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value, pointer, depth, role } = frame;
    if (++nodes > limits.maxNodes) {
      return { ok: false, problem: over('', `has more than ${limits.maxNodes} JSON values (subschemas, keywords, list entries)`, 'maxNodes') };
    }
    if (typeof value === 'string') {
      characters += value.length;
      if (characters > limits.maxBytes) return { ok: false, problem: over('', `serializes to more than ${limits.maxBytes} bytes of JSON`, 'maxBytes') };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limits.maxDepth) return { ok: false, problem: over(pointer, `is nested ${depth} levels deep`, 'maxDepth') };
    if (Array.isArray(value)) {
      if (value.length > limits.maxListEntries) return { ok: false, problem: over(pointer, `has ${value.length} entries`, 'maxListEntries') };
      const childRole: Role = role === 'list' ? 'schema' : 'data';
      value.forEach((item, index) => stack.push({ value: item, pointer: pointerTo(pointer, index), depth: depth + 1, role: childRole }));
      continue;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    if (role === 'map') {
      for (const [name, child] of entries) {
        characters += name.length;
        stack.push({ value: child, pointer: pointerTo(pointer, name), depth: depth + 1, role: 'schema' });
      }
      continue;
    }
    for (const [key, child] of entries) {
      characters += key.length;
      const at = pointerTo(pointer, key);
      if (role !== 'schema') {
        stack.push({ value: child, pointer: at, depth: depth + 1, role: 'data' });
        continue;
      }
      const problem = checkKeyword(key, child, at, addPattern);
      if (problem) return { ok: false, problem };
      // A map or list of subschemas is no level of its own: properties/a is one level below its schema.
      if (SUBSCHEMA_MAP.has(key) && isPlainObject(child)) stack.push({ value: child, pointer: at, depth, role: 'map' });
      else if (SUBSCHEMA_LIST.has(key) && Array.isArray(child)) stack.push({ value: child, pointer: at, depth, role: 'list' });
      else stack.push({ value: child, pointer: at, depth: depth + 1, role: SUBSCHEMA.has(key) ? 'schema' : 'data' });
    }
  }
  // Safe to serialize now: the depth is bounded and the walk found no more than maxNodes values.
  const bytes = Buffer.byteLength(JSON.stringify(schema) ?? '');
  if (bytes > limits.maxBytes) return { ok: false, problem: over('', `serializes to ${bytes} bytes of JSON`, 'maxBytes') };
  return { ok: true, patterns };
}

function checkKeyword(
  key: string,
  value: unknown,
  pointer: string,
  addPattern: (pointer: string, source: string) => SchemaProblem | undefined,
): SchemaProblem | undefined {
  if (REFERENCES.has(key) && typeof value === 'string' && !value.startsWith('#')) {
    return { pointer, message: `${JSON.stringify(value.slice(0, 100))} is not a local reference; only references inside the schema ("#/definitions/...") are allowed` };
  }
  if (key === 'pattern' && typeof value === 'string') return addPattern(pointer, value);
  if (!isPlainObject(value)) return undefined;
  if (key === 'properties') {
    const count = Object.keys(value).length;
    if (count > STREAM_SCHEMA_LIMITS.maxProperties) return over(pointer, `declares ${count} properties`, 'maxProperties');
  }
  if (key === 'patternProperties') {
    for (const name of Object.keys(value)) {
      const problem = addPattern(pointerTo(pointer, name), name);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** The first limit `schema` exceeds, as one line; undefined when it is within them all. */
export function schemaLimitProblem(schema: unknown): string | undefined {
  const scan = scanStreamSchema(schema);
  return scan.ok ? undefined : describeProblem(scan.problem);
}
