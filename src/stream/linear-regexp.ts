import type { CodeOptions } from 'ajv';
import { RE2JS } from 're2js';
import { STREAM_SCHEMA_LIMITS, type FoundPattern, type SchemaProblem } from './schema-limits.ts';

/**
 * `pattern` and `patternProperties` run on RE2 (re2js, a pure-JavaScript
 * port: nothing native, nothing fetched at install), whose matching time is
 * linear in the input. V8's backtracking engine takes exponential time on
 * patterns like `^(a+)+$`, which blocked the event loop for seconds per event.
 * The price: RE2 has no backreferences and no lookaround, so such patterns
 * are refused when a schema is registered.
 */

type RegExpEngine = NonNullable<CodeOptions['regExp']>;

export interface LinearRegExp {
  test(input: string): boolean;
  toString(): string;
}

// ECMAScript's \s (WhiteSpace and LineTerminator); RE2's \s is only [\t\n\f\r ].
const JS_WHITESPACE = '\\t\\n\\x0B\\f\\r\\p{Zs}\\x{2028}\\x{2029}\\x{FEFF}';
// ECMAScript's "." (no s flag) stops at every line terminator; RE2's only at \n.
const JS_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';

/**
 * Spells the constructs whose meaning differs between ECMAScript and RE2 the
 * ECMAScript way, so a pattern accepts the same strings as before. Left as
 * RE2 means it: `\S` inside a character class, e.g. `[\S]`.
 */
function withEcmaScriptMeaning(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\' && i + 1 < pattern.length) {
      const escaped = pattern[++i] as string;
      if (escaped === 's') out += inClass ? JS_WHITESPACE : `[${JS_WHITESPACE}]`;
      else if (escaped === 'S' && !inClass) out += `[^${JS_WHITESPACE}]`;
      else out += ch + escaped;
      continue;
    }
    if (ch === '[' && !inClass) inClass = true;
    else if (ch === ']' && inClass) inClass = false;
    out += ch === '.' && !inClass ? JS_DOT : ch;
  }
  return out;
}

/**
 * Compiles a JSON Schema (ECMAScript) pattern for RE2. Throws an Error saying
 * why when RE2 cannot run it (backreferences, lookaround) or when its program
 * exceeds STREAM_SCHEMA_LIMITS.maxPatternProgramSize.
 */
export function linearRegExp(source: string): LinearRegExp {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(withEcmaScriptMeaning(source)));
  } catch (error) {
    throw new Error(
      `is not a linear-time pattern: it must use RE2 syntax, which has no backreferences, lookahead or lookbehind (${(error as Error).message})`,
    );
  }
  const size = compiled.programSize();
  const limit = STREAM_SCHEMA_LIMITS.maxPatternProgramSize;
  if (size > limit) {
    throw new Error(`compiles to ${size} RE2 instructions; the limit is ${limit} (maxPatternProgramSize): prefer maxLength to large counted repetitions`);
  }
  // ajv keys its per-schema pattern cache on toString(): it must tell patterns apart.
  return { test: (input) => compiled.test(input), toString: () => `/${source}/u` };
}

/**
 * Compiles each pattern of a schema, and the ajv `code.regExp` engine that
 * hands them out. Fails on the first pattern RE2 cannot run, naming where it is.
 */
export function compilePatterns(found: FoundPattern[]): { ok: true; engine: RegExpEngine } | { ok: false; problem: SchemaProblem } {
  const compiled = new Map<string, LinearRegExp>();
  for (const { pointer, source } of found) {
    if (compiled.has(source)) continue;
    try {
      compiled.set(source, linearRegExp(source));
    } catch (error) {
      return { ok: false, problem: { pointer, message: `${JSON.stringify(source)} ${(error as Error).message}` } };
    }
  }
  // `code` only matters to ajv's standalone code generation, which Vigil does not use; any name but "new RegExp" will do.
  const engine = Object.assign((source: string) => compiled.get(source) ?? linearRegExp(source), { code: 'linearRegExp' });
  return { ok: true, engine };
}
