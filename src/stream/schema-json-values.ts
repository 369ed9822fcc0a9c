/** JSON values and paths as the schema compatibility check reads them and reports them. */

export type Schema = Record<string, unknown>;

/** The values an enum/const limits a schema to; undefined when unlimited. */
export function allowedValues(s: Schema): unknown[] | undefined {
  if (s.const !== undefined) return [s.const];
  return Array.isArray(s.enum) ? s.enum : undefined;
}

export function typesOf(type: unknown): string[] | undefined {
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string');
  return undefined;
}

export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A JSON path like `properties.latency_ms.type`; names that are not plain identifiers are quoted. */
export function at(path: string, ...segments: string[]): string {
  return segments.reduce((p, s) => {
    const part = /^[A-Za-z_$][\w$-]*$/.test(s) ? s : `[${JSON.stringify(s)}]`;
    return p === '' ? part : part.startsWith('[') ? `${p}${part}` : `${p}.${part}`;
  }, path);
}

export function label(path: string): string {
  return path === '' ? '(root)' : path;
}

/** A value for a message, cut to one short line; undefined reads "absent". */
export function show(value: unknown): string {
  if (value === undefined) return 'absent';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Structural equality of JSON values; object key order does not matter, as in JSON. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Schema)[k], (b as Schema)[k]));
}
