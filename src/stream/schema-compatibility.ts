import { isPlainObject } from '../core/param-checks.ts';
import { propertyAt, type JsonSchema } from './json-schema.ts';
import { schemaLimitProblem } from './schema-limits.ts';
import { allowedValues, at, deepEqual, jsonTypeOf, label, show, stringList, typesOf, type Schema } from './schema-json-values.ts';
import { compareBounds, compareMisc, compareSizes } from './schema-value-limits.ts';

/**
 * Backward compatibility of a stream's data contract: a new schema may be
 * adopted only if every event valid under the current one stays valid, so
 * today's producers never start landing in the dead-letter queue because of
 * a schema change. Deciding that exactly is undecidable in general, so this
 * is a structural, conservative check: it compares the common keywords one
 * by one, recursing through properties, items and definitions, and for any
 * other keyword that changed it reports "cannot prove compatible" rather than
 * guess. A false alarm costs a re-think; a missed break costs lost events.
 *
 * One deliberate leniency: adding a property to `properties` is accepted even
 * though events might already have carried that name with another type while
 * it was undeclared. Refusing it would forbid the most common evolution of
 * all; when the old schema constrained undeclared properties with an
 * `additionalProperties` schema, the new property is checked against that.
 */

// Keywords that never affect validity.
const ANNOTATIONS = new Set([
  'title',
  'description',
  'default',
  'examples',
  '$comment',
  'readOnly',
  'writeOnly',
  'deprecated',
]);

// Keywords compared precisely below; every other keyword goes through the generic "changed?" check.
const HANDLED = new Set([
  '$schema',
  'type',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'multipleOf',
  'uniqueItems',
  'pattern',
  'format',
  'definitions',
  '$defs',
]);

// Dropping a keyword only ever loosens a schema, except this one: without it `contains` means "at least one".
const REMOVAL_TIGHTENS = new Set(['minContains']);

const DRAFT_07 = 'http://json-schema.org/draft-07/schema';

/**
 * Reasons why some value valid under `oldSchema` may be invalid under
 * `newSchema`, each naming the JSON path of the keyword, e.g.
 * `properties.latency_ms.type: values of type number are no longer accepted (was ["number"], now ["string"])`.
 * Empty when the change is backward compatible.
 */
export function schemaIncompatibilities(oldSchema: JsonSchema, newSchema: JsonSchema): string[] {
  // The comparison recurses through both schemas and compares enums pairwise: only schemas within the limits are compared.
  const overLimit = schemaLimitProblem(newSchema) ?? schemaLimitProblem(oldSchema);
  if (overLimit !== undefined) return [`cannot prove compatible: a schema exceeds the stream schema limits: ${overLimit}`];
  const problems: string[] = [];
  compare(oldSchema, newSchema, '', problems);
  return problems;
}

/**
 * Which of `paths` (dotted, e.g. "http.status") were properties of the old
 * schema but are no longer object subschemas of the new one. Callers pass the
 * stream's keyField, timestampField, valueFields and detector fields:
 * dropping one from `properties` is "compatible" for validation yet would
 * starve whatever reads it.
 */
export function removedFields(oldSchema: JsonSchema, newSchema: JsonSchema, paths: string[]): string[] {
  return paths.filter((path) => propertyAt(oldSchema, path) !== undefined && propertyAt(newSchema, path) === undefined);
}

function compare(oldSchema: unknown, newSchema: unknown, path: string, out: string[]): void {
  if (deepEqual(oldSchema, newSchema)) return;
  // Nothing was valid before, or everything is valid now: nothing can break.
  if (oldSchema === false || newSchema === true) return;
  if (newSchema === false) {
    out.push(`${label(path)}: the new schema accepts no value at all`);
    return;
  }
  const o: Schema | undefined = oldSchema === true ? {} : isPlainObject(oldSchema) ? oldSchema : undefined;
  const n: Schema | undefined = isPlainObject(newSchema) ? newSchema : undefined;
  if (!o || !n) {
    out.push(`${label(path)}: changed; cannot prove compatible (was ${show(oldSchema)}, now ${show(newSchema)})`);
    return;
  }
  compareDialect(o, n, path, out);
  compareType(o, n, path, out);
  compareRequired(o, n, path, out);
  compareProperties(o, n, path, out);
  compareItems(o, n, path, out);
  compareDefinitions(o, n, path, out);
  compareAllowedValues(o, n, path, out);
  compareBounds(o, n, path, out);
  compareSizes(o, n, path, out);
  compareMisc(o, n, path, out);
  compareOthers(o, n, path, out);
}

function compareDialect(o: Schema, n: Schema, path: string, out: string[]): void {
  const dialect = (s: Schema) => (typeof s.$schema === 'string' ? s.$schema.replace(/#$/, '') : s.$schema ?? DRAFT_07);
  const was = dialect(o);
  const now = dialect(n);
  if (was !== now) {
    out.push(`${at(path, '$schema')}: the JSON Schema dialect changed (was ${show(was)}, now ${show(now)}); cannot prove compatible`);
  }
}

function compareType(o: Schema, n: Schema, path: string, out: string[]): void {
  const now = typesOf(n.type);
  if (!now) return;
  let was = typesOf(o.type);
  // An untyped enum/const still limits the types it lets through.
  if (!was) {
    const allowed = allowedValues(o);
    if (allowed) was = [...new Set(allowed.map(jsonTypeOf))];
  }
  if (!was) {
    out.push(`${at(path, 'type')}: values of any type were accepted, now only ${show(now)}`);
    return;
  }
  const lost = was.filter((t) => !now.includes(t) && !(t === 'integer' && now.includes('number')));
  if (lost.length > 0) {
    out.push(
      `${at(path, 'type')}: values of type ${lost.join(' and ')} are no longer accepted (was ${show(typesOf(o.type) ?? was)}, now ${show(now)})`,
    );
  }
}

function compareRequired(o: Schema, n: Schema, path: string, out: string[]): void {
  const was = stringList(o.required);
  for (const name of stringList(n.required)) {
    if (!was.includes(name)) out.push(`${at(path, 'required')}: "${name}" is newly required`);
  }
}

function compareProperties(o: Schema, n: Schema, path: string, out: string[]): void {
  const oldProps = isPlainObject(o.properties) ? o.properties : {};
  const newProps = isPlainObject(n.properties) ? n.properties : {};
  const oldRest = o.additionalProperties ?? true;
  const newRest = n.additionalProperties ?? true;
  for (const name of Object.keys(oldProps)) {
    const where = at(path, 'properties', name);
    if (Object.hasOwn(newProps, name)) {
      compare(oldProps[name], newProps[name], where, out);
    } else if (newRest === false) {
      out.push(`${where}: removed while additionalProperties is false, so events carrying "${name}" are now rejected`);
    } else {
      // The name now falls under additionalProperties.
      compare(oldProps[name], newRest, where, out);
    }
  }
  if (oldRest !== true && oldRest !== false) {
    for (const name of Object.keys(newProps)) {
      if (!Object.hasOwn(oldProps, name)) compare(oldRest, newProps[name], at(path, 'properties', name), out);
    }
  }
  if (deepEqual(oldRest, newRest)) return;
  if (newRest === false) {
    out.push(
      `${at(path, 'additionalProperties')}: properties not listed in "properties" are no longer accepted (was ${show(o.additionalProperties)}, now false)`,
    );
  } else {
    compare(oldRest, newRest, at(path, 'additionalProperties'), out);
  }
}

function compareItems(o: Schema, n: Schema, path: string, out: string[]): void {
  if (n.items === undefined || deepEqual(o.items, n.items)) return;
  // Tuple form (draft-07 array of schemas): positions interact with additionalItems; not worth proving.
  if (Array.isArray(o.items) || Array.isArray(n.items)) {
    out.push(`${at(path, 'items')}: changed; cannot prove compatible (was ${show(o.items)}, now ${show(n.items)})`);
    return;
  }
  compare(o.items ?? true, n.items, at(path, 'items'), out);
}

function compareDefinitions(o: Schema, n: Schema, path: string, out: string[]): void {
  // A definition matters only through a $ref; $ref changes are caught generically, so comparing
  // definitions by name covers the rest. Added ones are harmless; removed ones would not compile.
  for (const keyword of ['definitions', '$defs']) {
    const was = isPlainObject(o[keyword]) ? (o[keyword] as Schema) : {};
    const now = isPlainObject(n[keyword]) ? (n[keyword] as Schema) : {};
    for (const name of Object.keys(was)) {
      if (Object.hasOwn(now, name)) compare(was[name], now[name], at(path, keyword, name), out);
    }
  }
}

function compareAllowedValues(o: Schema, n: Schema, path: string, out: string[]): void {
  const was = allowedValues(o);
  if (Array.isArray(n.enum)) {
    const now = n.enum as unknown[];
    if (!was) {
      out.push(`${at(path, 'enum')}: any value was accepted, now only ${show(now)}`);
    } else {
      for (const value of was) {
        if (!now.some((v) => deepEqual(v, value))) out.push(`${at(path, 'enum')}: ${show(value)} is no longer allowed`);
      }
    }
  }
  if (n.const !== undefined) {
    if (!was) {
      out.push(`${at(path, 'const')}: any value was accepted, now only ${show(n.const)}`);
    } else {
      for (const value of was) {
        if (!deepEqual(value, n.const)) out.push(`${at(path, 'const')}: ${show(value)} is no longer allowed (now only ${show(n.const)})`);
      }
    }
  }
}

function compareOthers(o: Schema, n: Schema, path: string, out: string[]): void {
  const keys = new Set([...Object.keys(o), ...Object.keys(n)]);
  for (const key of keys) {
    if (HANDLED.has(key) || ANNOTATIONS.has(key)) continue;
    const removed = !Object.hasOwn(n, key);
    if (removed && !REMOVAL_TIGHTENS.has(key)) continue;
    if (deepEqual(o[key], n[key])) continue;
    out.push(`${at(path, key)}: changed; cannot prove compatible (was ${show(o[key])}, now ${show(n[key])})`);
  }
}
