import { BadUserInputError } from './errors.ts';

/**
 * Shared checks for the free-form JSON `params` of detectors and runbook
 * steps. They live in one place so every `params` object answers mistakes in
 * the same words: the offending path, what is wrong, and what is accepted.
 * Pure: they only read their arguments and throw BadUserInputError.
 */

/** Kinds of setting, as shown in generated docs; the first four are checked here, the rest by a spec's own `check`. */
export type ParamType = 'integer' | 'number' | 'string' | 'enum' | 'url' | 'date-time' | 'object' | 'array';

/** One accepted setting of a params object: how it is checked and what it means. */
export interface ParamSpec {
  type: ParamType;
  /** What the setting does and its unit, written for users: docs are generated from it. */
  description: string;
  /** Must be given: there is no sensible default. */
  required?: boolean;
  /** Stored when the setting is absent, so a stored version states every setting. `null` means "none". */
  default?: unknown;
  /** Accept an explicit null (meaning "none"), for settings whose default is null. */
  nullable?: boolean;
  /** Numbers: the smallest value; strings: the shortest length. */
  min?: number;
  /** `min` itself is not accepted (e.g. "> 0"). Numbers only. */
  exclusiveMin?: boolean;
  /** Numbers: the largest value; strings: the longest length. */
  max?: number;
  /** For `enum`: the accepted values. */
  values?: readonly string[];
  /**
   * Replaces the generic check (required for url, date-time, object, array).
   * Called even when the value is absent, so it can compute a default;
   * `checked` holds the settings already normalised, in spec order.
   */
  check?: (value: unknown, field: string, checked: Readonly<Record<string, unknown>>) => unknown;
}

/** The accepted settings of one params object, in the order they are stored. */
export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

/** A short rendering of a user's value for error messages; long values are cut so a message stays one line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The path of a child setting: `a.b` for plain names, `a["odd key"]` otherwise, so the path can be read back unambiguously. */
export function childPath(field: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${field}.${key}` : `${field}[${JSON.stringify(key)}]`;
}

/** True for `{...}` values: not null, not an array, not a class instance such as Date. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Throws unless `value` is a JSON object; `example` shows the user what shape is wanted. */
export function assertJsonObject(value: unknown, field: string, example = '{}'): Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw new BadUserInputError(field, `must be a JSON object such as ${example} (got ${describeValue(value)})`);
  }
  return value;
}

/**
 * Throws on the first key not in `accepted`. Unknown keys are rejected rather
 * than ignored because they are nearly always typos ("windw") that would
 * otherwise silently fall back to a default.
 */
export function rejectUnknownKeys(
  object: Record<string, unknown>,
  accepted: readonly string[],
  field: string,
  context: string,
): void {
  for (const key of Object.keys(object)) {
    if (accepted.includes(key)) continue;
    const guess = closest(key, accepted);
    const hint = guess ? ` (did you mean "${guess}"?)` : '';
    const list = accepted.length > 0 ? accepted.join(', ') : 'no settings';
    throw new BadUserInputError(childPath(field, key), `unknown setting "${key}"${hint}; ${context} accepts: ${list}`);
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new BadUserInputError(field, `must be an integer from ${min} to ${max} (got ${describeValue(value)})`);
  }
  return value;
}

/** Bounds of a number setting; both ends inclusive unless `exclusiveMin`. */
export interface NumberRange {
  min?: number;
  exclusiveMin?: boolean;
  max?: number;
}

/** Throws unless `value` is a finite number within `range`. NaN and Infinity are refused: JSON cannot store them. */
export function checkNumber(value: unknown, field: string, range: NumberRange = {}): number {
  const { min, exclusiveMin = false, max } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (min === undefined || (exclusiveMin ? value > min : value >= min)) &&
    (max === undefined || value <= max);
  if (!ok) throw new BadUserInputError(field, `must be ${describeRange(range)} (got ${describeValue(value)})`);
  return value;
}

function describeRange({ min, exclusiveMin = false, max }: NumberRange): string {
  if (min !== undefined && max !== undefined) {
    return exclusiveMin ? `a number greater than ${min} and at most ${max}` : `a number from ${min} to ${max}`;
  }
  if (min !== undefined) return `a number ${exclusiveMin ? 'greater than' : 'of at least'} ${min}`;
  if (max !== undefined) return `a number of at most ${max}`;
  return 'a finite number';
}

/** Throws unless `value` is one of `values` (case-sensitive, as GraphQL enums are). */
export function checkEnum<T extends string>(value: unknown, field: string, values: readonly T[]): T {
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new BadUserInputError(field, `must be one of ${values.join(', ')} (got ${describeValue(value)})`);
  }
  return value as T;
}

/** Throws unless `value` is a string of `minLength`..`maxLength` characters. */
export function checkString(value: unknown, field: string, minLength = 0, maxLength = Number.POSITIVE_INFINITY): string {
  if (typeof value !== 'string' || value.length < minLength || value.length > maxLength) {
    const size =
      maxLength === Number.POSITIVE_INFINITY
        ? minLength > 0
          ? `of at least ${minLength} character${minLength === 1 ? '' : 's'}`
          : ''
        : minLength > 0
          ? `of ${minLength} to ${maxLength} characters`
          : `of at most ${maxLength} characters`;
    throw new BadUserInputError(field, `must be a string ${size}`.trimEnd() + ` (got ${describeValue(value)})`);
  }
  return value;
}

/**
 * Checks a params object against its specs and returns a new object holding
 * every spec'd setting, defaults filled in, in spec order (JSONB reorders keys when stored, so compare
 * settings by value; two stored
 * versions with the same settings are byte-identical). Settings absent with no
 * default are left out. `context` names the owner in messages, e.g. "ZSCORE".
 */
export function checkParams(
  specs: ParamSpecs,
  params: unknown,
  field: string,
  context: string,
): Record<string, unknown> {
  const input = assertJsonObject(params, field);
  const keys = Object.keys(specs);
  rejectUnknownKeys(input, keys, field, context);
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const spec = specs[key];
    if (!spec) continue;
    const path = childPath(field, key);
    const value = Object.hasOwn(input, key) ? input[key] : undefined;
    if (value === undefined && spec.required) {
      throw new BadUserInputError(path, `is required for ${context}: ${spec.description}`);
    }
    if (spec.check) {
      const checked = spec.check(value, path, out);
      if (checked !== undefined) out[key] = checked;
      continue;
    }
    if (value === undefined) {
      if ('default' in spec) out[key] = spec.default;
      continue;
    }
    if (value === null && spec.nullable) {
      out[key] = null;
      continue;
    }
    out[key] = checkBySpec(spec, value, path);
  }
  return out;
}

function checkBySpec(spec: ParamSpec, value: unknown, path: string): unknown {
  switch (spec.type) {
    case 'integer':
      return checkInteger(value, path, spec.min ?? Number.MIN_SAFE_INTEGER, spec.max ?? Number.MAX_SAFE_INTEGER);
    case 'number': {
      const range: NumberRange = {};
      if (spec.min !== undefined) range.min = spec.min;
      if (spec.exclusiveMin) range.exclusiveMin = true;
      if (spec.max !== undefined) range.max = spec.max;
      return checkNumber(value, path, range);
    }
    case 'string':
      return checkString(value, path, spec.min ?? 0, spec.max ?? Number.POSITIVE_INFINITY);
    case 'enum':
      return checkEnum(value, path, spec.values ?? []);
    default:
      // A programming error in a spec table, not a user mistake: it must surface as INTERNAL.
      throw new Error(`param spec of type ${spec.type} at ${path} needs a check function`);
  }
}

/** The accepted name nearest to a typo, if it is close enough to be a plausible intent. */
function closest(key: string, accepted: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of accepted) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
