import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { DATE_TIME_FORMAT } from './date-time-format.ts';
import { BadUserInputError } from '../core/errors.ts';
import { describeValue, isPlainObject } from '../core/param-checks.ts';
import { compilePatterns } from './linear-regexp.ts';
import { describeProblem, scanStreamSchema } from './schema-limits.ts';

/**
 * A stream's data contract: the JSON Schema every event value must satisfy.
 * Draft-07 unless `$schema` names draft 2020-12. These functions are pure:
 * no I/O (ajv never fetches a remote `$ref`), no clock, no randomness.
 */

/** A JSON Schema: an object, or a boolean (true accepts everything, false nothing). */
export type JsonSchema = Record<string, unknown> | boolean;

type Dialect = 'draft-07' | '2020-12';

const DIALECT_URIS: Readonly<Record<Dialect, string>> = {
  'draft-07': 'http://json-schema.org/draft-07/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

// logger: false, because ajv would otherwise print warnings (e.g. unknown formats) to the console: no I/O here.
const AJV_OPTIONS: Options = { strict: false, allErrors: true, logger: false };
const MAX_REASONS = 3;

// ajv-formats is CommonJS; seen from ESM its plugin is the `default` property of the module object.
const addFormats = addFormatsModule.default;

function newAjv(dialect: Dialect, options: Options = {}): Ajv | Ajv2020 {
  const ajv = dialect === '2020-12' ? new Ajv2020({ ...AJV_OPTIONS, ...options }) : new Ajv({ ...AJV_OPTIONS, ...options });
  addFormats(ajv);
  ajv.addFormat('date-time', DATE_TIME_FORMAT); // ajv-formats' rule without its allocations
  return ajv;
}

// One meta-schema checker per dialect, built on first use: validateSchema keeps no trace
// of the schemas it checks, so sharing it is safe, and it saves compiling the meta-schema each time.
const metaCheckers = new Map<Dialect, Ajv | Ajv2020>();
function metaChecker(dialect: Dialect): Ajv | Ajv2020 {
  let ajv = metaCheckers.get(dialect);
  if (!ajv) {
    ajv = newAjv(dialect);
    metaCheckers.set(dialect, ajv);
  }
  return ajv;
}

/** The dialect `$schema` asks for, or a message saying what is accepted instead. */
function dialectOf(schema: Record<string, unknown>): Dialect | { error: string } {
  const declared = schema.$schema;
  if (declared === undefined) return 'draft-07';
  const uri = typeof declared === 'string' ? declared.replace(/#$/, '') : undefined;
  for (const [dialect, known] of Object.entries(DIALECT_URIS) as [Dialect, string][]) {
    if (uri === known) return dialect;
  }
  return {
    error: `$schema ${describeValue(declared)} is not supported; omit it for draft-07, or use "${DIALECT_URIS['draft-07']}#" or "${DIALECT_URIS['2020-12']}"`,
  };
}

/**
 * Compiles a schema on its own ajv instance. A fresh instance per schema is
 * deliberate: a shared one would keep every compiled schema forever and
 * refuse a second schema reusing an `$id`. The meta-schema check is done
 * first on the shared checker, so the fresh instance skips it (cheap: < 1 ms).
 */
function compile(schema: Record<string, unknown>): Compiled {
  // Limits and patterns first: ajv's work grows with the schema, so it only ever sees one within the limits.
  const scan = scanStreamSchema(schema);
  if (!scan.ok) return { ok: false, kind: 'limits', reason: describeProblem(scan.problem) };
  const patterns = compilePatterns(scan.patterns);
  if (!patterns.ok) return { ok: false, kind: 'pattern', reason: describeProblem(patterns.problem) };
  const dialect = dialectOf(schema);
  if (typeof dialect !== 'string') return { ok: false, kind: 'invalid', reason: dialect.error };
  const checker = metaChecker(dialect);
  if (!checker.validateSchema(schema)) {
    return { ok: false, kind: 'invalid', reason: formatErrors(checker.errors ?? [], 'schema') };
  }
  try {
    return { ok: true, validate: newAjv(dialect, { validateSchema: false, code: { regExp: patterns.engine } }).compile(schema) };
  } catch (error) {
    // ajv throws for what the meta-schema cannot see, e.g. an unresolvable $ref.
    return { ok: false, kind: 'invalid', reason: error instanceof Error ? error.message : String(error) };
  }
}

type Compiled = { ok: true; validate: ValidateFunction } | { ok: false; kind: keyof typeof REFUSAL; reason: string };
const REFUSAL = { limits: 'exceeds the stream schema limits: ', pattern: '', invalid: 'is not a valid JSON Schema: ' } as const;

/**
 * Throws BadUserInputError(field, ...) unless `schema` is a JSON Schema that
 * ajv accepts (draft-07, or 2020-12 when `$schema` says so) whose root is
 * `{ "type": "object", "properties": {...} }`, as events are JSON objects
 * whose fields detectors read. The message quotes ajv's reason.
 */
export function assertValidStreamSchema(schema: unknown, field: string): void {
  if (!isPlainObject(schema)) {
    throw new BadUserInputError(
      field,
      `must be a JSON Schema object such as { "type": "object", "properties": { "latency_ms": { "type": "number" } } } (got ${describeValue(schema)})`,
    );
  }
  const result = compile(schema);
  if (!result.ok) throw new BadUserInputError(field, `${REFUSAL[result.kind]}${result.reason}`);
  if (schema.type !== 'object') {
    throw new BadUserInputError(
      field,
      `the root must have "type": "object", because every event is a JSON object (got "type": ${describeValue(schema.type)})`,
    );
  }
  if (!isPlainObject(schema.properties)) {
    throw new BadUserInputError(
      field,
      `the root must declare "properties", an object describing the event fields, e.g. { "latency_ms": { "type": "number" } } (got ${describeValue(schema.properties)})`,
    );
  }
}

/**
 * The subschema reached by following a dotted path ("a.b") through
 * `properties`, whatever its form (booleans included); undefined when absent.
 * Only `properties` is followed, not `$ref`/`allOf`, so fields must be
 * declared inline to be addressable.
 */
function subschemaAt(schema: JsonSchema, path: string): JsonSchema | undefined {
  let current: JsonSchema = schema;
  for (const segment of path.split('.')) {
    if (segment === '' || !isPlainObject(current)) return undefined;
    const properties = current.properties;
    // hasOwn: a field named "constructor" must not find Object.prototype.constructor.
    if (!isPlainObject(properties) || !Object.hasOwn(properties, segment)) return undefined;
    const next = properties[segment];
    if (!isPlainObject(next) && typeof next !== 'boolean') return undefined;
    current = next;
  }
  return current;
}

/** The object subschema at a dotted path ("a.b") through `properties`; undefined when absent (or a boolean schema). */
export function propertyAt(schema: JsonSchema, path: string): Record<string, unknown> | undefined {
  const found = subschemaAt(schema, path);
  return isPlainObject(found) ? found : undefined;
}

/** A property's declared types; undefined when it declares none (then any JSON value may appear). */
function declaredTypes(property: Record<string, unknown> | undefined): string[] | undefined {
  const type = property?.type;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type) && type.every((t) => typeof t === 'string')) return type as string[];
  return undefined;
}

/** Why `path` is not found, naming the level where the walk stopped and what exists there. */
function missingMessage(schema: JsonSchema, path: string): string {
  if (path === '' || path.split('.').includes('')) {
    return `${JSON.stringify(path)} is not a property path: use property names joined by dots, e.g. "latency_ms" or "http.status"`;
  }
  const segments = path.split('.');
  let current: JsonSchema | undefined = schema;
  for (let i = 0; i < segments.length; i++) {
    const parent = segments.slice(0, i).join('.');
    const properties = isPlainObject(current) && isPlainObject(current.properties) ? current.properties : undefined;
    const segment = segments[i] as string;
    if (!properties || !Object.hasOwn(properties, segment)) {
      const where = parent === '' ? 'the schema' : `"${parent}"`;
      const names = properties ? Object.keys(properties) : [];
      const known =
        names.length === 0
          ? `${where} declares no properties`
          : `${where} has: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}`;
      return `"${path}" is not a property of the schema (${known})`;
    }
    current = properties[segment] as JsonSchema;
  }
  return `"${path}" is not an object subschema`;
}

/** The fields of a stream that detectors rely on. */
export interface StreamFields {
  keyField?: string | null;
  timestampField?: string | null;
  valueFields: string[];
}

/**
 * Throws BadUserInputError unless the stream's fields exist in `schema` with
 * usable types: each value field number/integer (a type list may add null),
 * keyField string/integer, timestampField string (ISO-8601) or
 * integer/number (epoch ms). Errors name `${prefix}.valueFields[i]`,
 * `${prefix}.keyField` or `${prefix}.timestampField`. The schema need not
 * mark these fields required: a missing field is for the caller to handle.
 */
export function assertStreamFields(schema: JsonSchema, fields: StreamFields, prefix = 'input'): void {
  const { valueFields } = fields;
  if (!Array.isArray(valueFields) || valueFields.length === 0) {
    throw new BadUserInputError(`${prefix}.valueFields`, 'must list at least one numeric property to watch, e.g. ["latency_ms"]');
  }
  valueFields.forEach((name, index) => {
    const field = `${prefix}.valueFields[${index}]`;
    const first = valueFields.indexOf(name);
    if (first !== index) throw new BadUserInputError(field, `"${name}" is listed twice (also at index ${first}); list each field once`);
    checkFieldType(schema, name, field, {
      allowed: ['number', 'integer', 'null'],
      needsOneOf: ['number', 'integer'],
      wanted: 'a number or integer property (a type list may also allow "null")',
    });
  });
  if (fields.keyField !== undefined && fields.keyField !== null) {
    checkFieldType(schema, fields.keyField, `${prefix}.keyField`, {
      allowed: ['string', 'integer'],
      needsOneOf: ['string', 'integer'],
      wanted: 'a string or integer property (or null for a single series)',
    });
  }
  if (fields.timestampField !== undefined && fields.timestampField !== null) {
    checkFieldType(schema, fields.timestampField, `${prefix}.timestampField`, {
      allowed: ['string', 'integer', 'number'],
      needsOneOf: ['string', 'integer', 'number'],
      wanted:
        'a string property holding an ISO-8601 date-time (ideally "format": "date-time") or an integer/number property holding epoch milliseconds (or null for the Kafka timestamp)',
    });
  }
}

function checkFieldType(
  schema: JsonSchema,
  name: unknown,
  field: string,
  rule: { allowed: readonly string[]; needsOneOf: readonly string[]; wanted: string },
): void {
  if (typeof name !== 'string') throw new BadUserInputError(field, `must be a property path string (got ${describeValue(name)})`);
  const found = subschemaAt(schema, name);
  if (found === undefined) throw new BadUserInputError(field, `${missingMessage(schema, name)}; must name ${rule.wanted}`);
  const types = declaredTypes(isPlainObject(found) ? found : undefined);
  // An undeclared type would let any JSON value through, which detectors could not read.
  const ok =
    types !== undefined &&
    types.every((t) => rule.allowed.includes(t)) &&
    types.some((t) => rule.needsOneOf.includes(t));
  if (!ok) {
    const has = types === undefined ? 'declares no "type"' : `has type ${JSON.stringify(types.length === 1 ? types[0] : types)}`;
    throw new BadUserInputError(field, `"${name}" ${has} in the schema; must name ${rule.wanted}`);
  }
}

/** What a validator says about one event. */
export type ValidationResult = { ok: true } | { ok: false; reason: string };

/**
 * Compiles `schema` once into a validator of event values (cache it per schema version).
 * `reason` is one line, e.g. `/latency_ms must be number`. Throws a plain Error if the
 * schema exceeds STREAM_SCHEMA_LIMITS ("stream schema exceeds limits: ...", not compiled)
 * or does not compile: stored ones may predate today's limits and regex engine. The
 * validator never throws: an error inside ajv (e.g. a stack overflow on deeply nested
 * data under a recursive $ref) becomes a refusal with its reason.
 */
export function compileValidator(schema: JsonSchema): (value: unknown) => ValidationResult {
  if (typeof schema === 'boolean') {
    return schema ? () => ({ ok: true }) : () => ({ ok: false, reason: 'the schema accepts no value' });
  }
  const result = compile(schema);
  if (!result.ok) throw new Error(`stream schema ${result.kind === 'limits' ? 'exceeds limits' : 'does not compile'}: ${result.reason}`);
  const { validate } = result;
  return (value) => {
    try {
      return validate(value) ? { ok: true } : { ok: false, reason: formatErrors(validate.errors ?? [], '(root)') };
    } catch (error) {
      return { ok: false, reason: `validation failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  };
}

/** ajv's errors as one line: the first few, each as "<JSON pointer> <problem>", duplicates dropped. */
function formatErrors(errors: readonly ErrorObject[], root: string): string {
  const lines = [...new Set(errors.map((error) => describeError(error, root)))];
  if (lines.length === 0) return 'invalid';
  const shown = lines.slice(0, MAX_REASONS).join('; ');
  return lines.length > MAX_REASONS ? `${shown}; and ${lines.length - MAX_REASONS} more` : shown;
}

function describeError(error: ErrorObject, root: string): string {
  const where = error.instancePath === '' ? root : root === 'schema' ? `schema${error.instancePath}` : error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where} must not have property ${describeValue(params.additionalProperty)}`;
    case 'enum': {
      // Listed in full (up to a point): the accepted values are the useful part of the message.
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map((v) => JSON.stringify(v)).join(', ') : '';
      return `${where} must be one of ${allowed.length > 200 ? `${allowed.slice(0, 197)}...` : allowed}`;
    }
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}
