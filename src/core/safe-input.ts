import { BadUserInputError } from './errors.ts';

/**
 * Input that PostgreSQL, Prisma or the audit chain cannot carry faithfully,
 * refused at the edge: keys that JavaScript treats as prototype access
 * (Prisma drops "__proto__" from JSON), NUL (PostgreSQL text and jsonb cannot
 * store U+0000), lone UTF-16 surrogates (node-postgres turns them into
 * U+FFFD), JSON nested deeper than anything legitimate, and huge strings.
 * Pure functions: the gateway plugin and runAudited() (schema/guard.ts) both use them.
 */
export interface SafeInputLimits {
  maxDepth: number;
  /** In UTF-16 code units, as String.length counts. */
  maxStringLength: number;
}

export const DEFAULT_SAFE_INPUT_LIMITS: SafeInputLimits = { maxDepth: 64, maxStringLength: 1024 * 1024 };

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export interface UnsafeInput {
  /** A path like "input.schema.properties.__proto__" or "events[3].name". */
  field: string;
  problem: string;
}

// With the u flag a surrogate pair reads as one code point, so only unpaired halves match.
const LONE_SURROGATE = /\p{Surrogate}/u;
const LONE_SURROGATES = /\p{Surrogate}/gu;
const PLAIN_KEY = /^[A-Za-z0-9_$@:-]{1,100}$/;

/** Odd keys are quoted with JSON.stringify, which also escapes NUL and lone surrogates: a path is always storable. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (PLAIN_KEY.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key)}]`;
}

export function textProblem(text: string, limits: SafeInputLimits): string | undefined {
  if (text.length > limits.maxStringLength) return `is longer than ${limits.maxStringLength} characters`;
  if (text.includes('\u0000')) return 'holds a NUL character (U+0000), which cannot be stored';
  if (LONE_SURROGATE.test(text)) return 'holds an unpaired UTF-16 surrogate (ill-formed Unicode)';
  return undefined;
}

/**
 * The first unsafe thing in `value`, depth first in key order, or undefined.
 * Iterative: a 100,000-deep value must be refused, not overflow the stack.
 */
export function findUnsafeInput(value: unknown, fieldPath: string, limits: SafeInputLimits = DEFAULT_SAFE_INPUT_LIMITS): UnsafeInput | undefined {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: fieldPath, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, path, depth } = pending.pop()!;
    if (typeof current === 'string') {
      const problem = textProblem(current, limits);
      if (problem) return { field: path, problem };
      continue;
    }
    if (current === null || typeof current !== 'object' || current instanceof Date) continue;
    if (depth >= limits.maxDepth) return { field: path, problem: `is nested deeper than ${limits.maxDepth} levels` };
    const children: { value: unknown; path: string; depth: number }[] = [];
    if (Array.isArray(current)) {
      current.forEach((item, index) => children.push({ value: item, path: childPath(path, index), depth: depth + 1 }));
    } else {
      for (const key of Object.keys(current)) {
        const keyPath = childPath(path, key);
        if (FORBIDDEN_KEYS.has(key)) return { field: keyPath, problem: `the key "${key}" is not allowed (it reads as prototype access)` };
        const keyIssue = textProblem(key, limits);
        if (keyIssue) return { field: keyPath, problem: `its key ${keyIssue}` };
        children.push({ value: (current as Record<string, unknown>)[key], path: keyPath, depth: depth + 1 });
      }
    }
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
  }
  return undefined;
}

/** Throws BAD_USER_INPUT naming the field when `value` is unsafe. */
export function assertSafeInput(value: unknown, fieldPath: string, limits: SafeInputLimits = DEFAULT_SAFE_INPUT_LIMITS): void {
  const unsafe = findUnsafeInput(value, fieldPath, limits);
  if (unsafe) throw new BadUserInputError(unsafe.field || 'input', unsafe.problem);
}

/** Text any column can store: NUL and lone surrogates become U+FFFD, then at most `max` characters. */
export function storableText(text: string, max = 500): string {
  const clean = text.replace(/\u0000/g, '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');
  return clean.length <= max ? clean : wellFormedPrefix(clean, max);
}

/** The first `max` code units, without cutting a surrogate pair in half. */
function wellFormedPrefix(text: string, max: number): string {
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  // A high surrogate last means its low half was cut off; a low one last ends a whole pair.
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * A bounded, storable rendering of any value for the audit log: JSON-like,
 * strings escaped by JSON.stringify (which writes NUL and lone surrogates as
 * \u escapes), depth and length capped, credential keys redacted.
 */
export function safeExcerpt(value: unknown, options: { maxChars?: number; redactKey?: (key: string) => boolean } = {}): string {
  const maxChars = options.maxChars ?? 500;
  const parts: string[] = [];
  let length = 0;
  const emit = (text: string): boolean => {
    parts.push(text);
    length += text.length;
    return length < maxChars;
  };
  const render = (current: unknown, depth: number): boolean => {
    if (typeof current === 'string') return emit(JSON.stringify(current.slice(0, maxChars)));
    if (typeof current === 'bigint') return emit(current.toString());
    if (current === null || typeof current !== 'object') return emit(JSON.stringify(current) ?? 'null');
    if (current instanceof Date) return emit(JSON.stringify(current.toISOString()));
    if (depth >= 8) return emit(Array.isArray(current) ? '[…]' : '{…}');
    const isArray = Array.isArray(current);
    if (!emit(isArray ? '[' : '{')) return false;
    const keys = isArray ? current.map((_, i) => i) : Object.keys(current);
    for (const [n, key] of keys.entries()) {
      if (n > 0 && !emit(',')) return false;
      if (!isArray && !emit(`${JSON.stringify(String(key).slice(0, 100))}:`)) return false;
      const inner = (current as Record<string | number, unknown>)[key];
      const redacted = !isArray && options.redactKey?.(String(key)) && inner != null;
      if (!(redacted ? emit('"[redacted]"') : render(inner, depth + 1))) return false;
    }
    return emit(isArray ? ']' : '}');
  };
  render(value, 0);
  const text = parts.join('');
  return text.length <= maxChars ? text : `${wellFormedPrefix(text, maxChars - 1)}…`;
}

/** An audit detail that replaces hostile input: why, and a safe excerpt of it. */
export function sanitisedDetail(
  value: unknown,
  unsafe: UnsafeInput,
  extra: Record<string, unknown> = {},
  redactKey?: (key: string) => boolean,
): Record<string, unknown> {
  return {
    sanitised: true,
    reason: storableText(`${unsafe.field}: ${unsafe.problem}`),
    excerpt: safeExcerpt(value, { maxChars: 500, ...(redactKey ? { redactKey } : {}) }),
    ...extra,
  };
}
