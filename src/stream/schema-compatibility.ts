import { isPlainObject } from '../core/param-checks.ts';
import { propertyAt, type JsonSchema } from './json-schema.ts';
import { schemaLimitProblem } from './schema-limits.ts';

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

type Schema = Record<string, unknown>;

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

interface Bound {
  value: number;
  exclusive: boolean;
  keyword: string;
}

function compareBounds(o: Schema, n: Schema, path: string, out: string[]): void {
  for (const side of ['lower', 'upper'] as const) {
    const was = bound(o, side);
    const now = bound(n, side);
    if (!now) continue;
    const sign = side === 'lower' ? 1 : -1;
    // Positive when the new bound is stricter than the old one.
    const tighter = !was || sign * (now.value - was.value) > 0 || (now.value === was.value && now.exclusive && !was.exclusive);
    if (tighter) {
      out.push(`${at(path, now.keyword)}: ${side} bound tightened (was ${showBound(was, side)}, now ${showBound(now, side)})`);
    }
  }
}

function bound(s: Schema, side: 'lower' | 'upper'): Bound | undefined {
  const [inclusiveKey, exclusiveKey] = side === 'lower' ? ['minimum', 'exclusiveMinimum'] : ['maximum', 'exclusiveMaximum'];
  const candidates: Bound[] = [];
  if (typeof s[inclusiveKey] === 'number') candidates.push({ value: s[inclusiveKey], exclusive: false, keyword: inclusiveKey });
  if (typeof s[exclusiveKey] === 'number') candidates.push({ value: s[exclusiveKey], exclusive: true, keyword: exclusiveKey });
  const sign = side === 'lower' ? 1 : -1;
  let best: Bound | undefined;
  for (const c of candidates) {
    if (!best || sign * (c.value - best.value) > 0 || (c.value === best.value && c.exclusive)) best = c;
  }
  return best;
}

function showBound(b: Bound | undefined, side: 'lower' | 'upper'): string {
  if (!b) return 'none';
  const op = side === 'lower' ? (b.exclusive ? '>' : '>=') : b.exclusive ? '<' : '<=';
  return `${op} ${b.value}`;
}

function compareSizes(o: Schema, n: Schema, path: string, out: string[]): void {
  for (const keyword of ['minLength', 'minItems', 'minProperties']) {
    const now = n[keyword];
    const was = typeof o[keyword] === 'number' ? o[keyword] : 0;
    if (typeof now === 'number' && now > was) out.push(`${at(path, keyword)}: tightened from ${was} to ${now}`);
  }
  for (const keyword of ['maxLength', 'maxItems', 'maxProperties']) {
    const now = n[keyword];
    const was = o[keyword];
    if (typeof now !== 'number') continue;
    if (typeof was !== 'number') out.push(`${at(path, keyword)}: newly limited to ${now}`);
    else if (now < was) out.push(`${at(path, keyword)}: tightened from ${was} to ${now}`);
  }
}

function compareMisc(o: Schema, n: Schema, path: string, out: string[]): void {
  if (typeof n.multipleOf === 'number') {
    const was = o.multipleOf;
    // Multiples of 10 are still multiples of 5; the ratio test tolerates float noise like 0.3 / 0.1.
    const ratio = typeof was === 'number' ? was / n.multipleOf : Number.NaN;
    if (!(Math.abs(ratio - Math.round(ratio)) < 1e-9 && Math.round(ratio) >= 1)) {
      out.push(`${at(path, 'multipleOf')}: values must now be multiples of ${n.multipleOf} (was ${typeof was === 'number' ? `multiples of ${was}` : 'any'})`);
    }
  }
  if (n.uniqueItems === true && o.uniqueItems !== true) out.push(`${at(path, 'uniqueItems')}: arrays must now have unique items`);
  for (const keyword of ['pattern', 'format']) {
    if (n[keyword] !== undefined && n[keyword] !== o[keyword]) {
      out.push(
        `${at(path, keyword)}: changed from ${show(o[keyword])} to ${show(n[keyword])}; values accepted before may not match the new ${keyword}`,
      );
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

/** The values an enum/const limits a schema to; undefined when unlimited. */
function allowedValues(s: Schema): unknown[] | undefined {
  if (s.const !== undefined) return [s.const];
  return Array.isArray(s.enum) ? s.enum : undefined;
}

function typesOf(type: unknown): string[] | undefined {
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string');
  return undefined;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A JSON path like `properties.latency_ms.type`; names that are not plain identifiers are quoted. */
function at(path: string, ...segments: string[]): string {
  return segments.reduce((p, s) => {
    const part = /^[A-Za-z_$][\w$-]*$/.test(s) ? s : `[${JSON.stringify(s)}]`;
    return p === '' ? part : part.startsWith('[') ? `${p}${part}` : `${p}.${part}`;
  }, path);
}

function label(path: string): string {
  return path === '' ? '(root)' : path;
}

/** A value for a message, cut to one short line; undefined reads "absent". */
function show(value: unknown): string {
  if (value === undefined) return 'absent';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Structural equality of JSON values; object key order does not matter, as in JSON. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Schema)[k], (b as Schema)[k]));
}
