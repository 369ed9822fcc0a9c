import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../src/core/errors.ts';
import { assertSafeInput, findUnsafeInput, safeExcerpt, sanitisedDetail, storableText } from '../../src/core/safe-input.ts';
import { storableDetail } from '../../src/audit/audit-log.ts';
import { findUnsafeOperationInput } from '../../src/schema/safe-input-plugin.ts';
import { badInput } from '../support/bad-input.ts';

/** A value nested `depth` objects deep: { a: { a: ... } }. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDE00';

describe('findUnsafeInput', () => {
  it('passes ordinary input: unicode, emoji (surrogate pairs), numbers, nulls, dates, arrays', () => {
    const ordinary = {
      name: 'latency-eu',
      note: 'Ünïcødé, 日本語, עברית, emoji 😀🚀👩‍👩‍👧 and a flag 🇫🇷',
      schema: { type: 'object', properties: { latency_ms: { type: 'number' }, proto: { type: 'string' } } },
      values: [1, 2.5, -3, null, true, 'x'],
      at: new Date(0),
    };
    expect(findUnsafeInput(ordinary, 'input')).toBeUndefined();
    expect(() => assertSafeInput(ordinary, 'input')).not.toThrow();
    expect(findUnsafeInput(nested(63), 'input')).toBeUndefined();
    expect(findUnsafeInput('x'.repeat(1024 * 1024), 'input.note')).toBeUndefined();
  });

  it.each([
    ['__proto__', { schema: { properties: JSON.parse('{"__proto__": {"type": "string"}}') } }, 'input.schema.properties.__proto__'],
    ['constructor', { schema: { properties: { constructor: { type: 'string' } } } }, 'input.schema.properties.constructor'],
    ['prototype', { list: [{ prototype: 1 }] }, 'input.list[0].prototype'],
  ])('refuses a "%s" key, naming its path', (key, value, field) => {
    expect(findUnsafeInput(value, 'input')).toEqual({ field, problem: expect.stringContaining(`"${key}"`) });
  });

  it('refuses NUL in a value or a key', () => {
    expect(findUnsafeInput({ name: 'a\u0000b' }, 'input')).toEqual({ field: 'input.name', problem: expect.stringContaining('NUL') });
    const found = findUnsafeInput({ ['k\u0000']: 1 }, 'input');
    expect(found?.problem).toMatch(/key holds a NUL/);
    // The path itself stays storable: the odd key is quoted with its NUL escaped.
    expect(found?.field).toBe('input["k\\u0000"]');
  });

  it.each([
    ['a lone high surrogate', `ok ${LONE_HIGH}`],
    ['a lone low surrogate', `${LONE_LOW} ok`],
    ['a reversed pair', `${LONE_LOW}${LONE_HIGH}`],
  ])('refuses %s (ill-formed Unicode)', (_name, text) => {
    expect(findUnsafeInput({ events: [{ host: text }] }, '')).toEqual({ field: 'events[0].host', problem: expect.stringContaining('surrogate') });
  });

  it('refuses JSON nested deeper than the limit, even 100,000 deep, without overflowing the stack', () => {
    expect(findUnsafeInput(nested(65), 'input')?.problem).toMatch(/nested deeper than 64/);
    expect(findUnsafeInput(nested(3000), 'input')?.field).toBe(`input${'.a'.repeat(64)}`);
    expect(findUnsafeInput(nested(100_000), 'input')?.problem).toMatch(/nested deeper/);
    let list: unknown = [];
    for (let i = 0; i < 100_000; i++) list = [list];
    expect(findUnsafeInput(list, 'x')?.problem).toMatch(/nested deeper/);
  });

  it('refuses a string longer than the limit', () => {
    expect(findUnsafeInput({ note: 'x'.repeat(11) }, 'input', { maxDepth: 64, maxStringLength: 10 })).toEqual({
      field: 'input.note',
      problem: 'is longer than 10 characters',
    });
  });

  it('reports the first problem in document order', () => {
    expect(findUnsafeInput({ a: 'fine', b: ['ok', 'x\u0000'], c: JSON.parse('{"__proto__": 1}') }, '')?.field).toBe('b[1]');
  });

  it('assertSafeInput throws BAD_USER_INPUT naming the field', () => {
    const error = badInput(() => assertSafeInput({ name: `x${LONE_HIGH}` }, 'input'));
    expect(error).toBeInstanceOf(BadUserInputError);
    expect(error.field).toBe('input.name');
    expect(error.code).toBe('BAD_USER_INPUT');
  });
});

describe('storable renderings', () => {
  it('storableText replaces NUL and lone surrogates and never cuts a pair', () => {
    expect(storableText(`a\u0000b${LONE_HIGH}c`)).toBe('a\uFFFDb\uFFFDc');
    const cut = storableText('😀😀😀', 3);
    expect(cut).toBe('😀');
    expect(findUnsafeInput(cut, '')).toBeUndefined();
  });

  it('safeExcerpt is bounded, escaped, storable and redacts credential keys', () => {
    const hostile = { secret: 'hunter2', name: `a\u0000${LONE_HIGH}`, deep: nested(3000), long: '😀'.repeat(1000) };
    const excerpt = safeExcerpt(hostile, { maxChars: 500, redactKey: (key) => key === 'secret' });
    expect(excerpt.length).toBeLessThanOrEqual(500);
    expect(findUnsafeInput(excerpt, '')).toBeUndefined();
    expect(excerpt).not.toContain('hunter2');
    expect(excerpt).toContain('"secret":"[redacted]"');
    expect(excerpt).toContain('\\u0000');
  });

  it('sanitisedDetail says why and keeps the extra facts', () => {
    const detail = sanitisedDetail({ x: 'a\u0000' }, { field: 'input.x', problem: 'holds a NUL' }, { code: 'BAD_USER_INPUT' });
    expect(detail).toMatchObject({ sanitised: true, reason: 'input.x: holds a NUL', code: 'BAD_USER_INPUT' });
    expect(findUnsafeInput(detail, '')).toBeUndefined();
  });

  it('storableDetail passes a safe detail through and sanitises a hostile one, keeping its short safe facts', () => {
    expect(storableDetail({ args: { b: 1, a: [2] }, code: 'X' })).toEqual({ args: { a: [2], b: 1 }, code: 'X' });
    const stored = storableDetail({ args: nested(3000), code: 'NOT_FOUND', error: 'stream "\u0000" not found' }) as Record<string, unknown>;
    expect(stored).toMatchObject({ sanitised: true, code: 'NOT_FOUND' });
    expect(stored.error).toBeUndefined();
    expect(findUnsafeInput(stored, '')).toBeUndefined();
  });
});

describe('findUnsafeOperationInput (the gateway plugin)', () => {
  const register = parse('mutation($in: RegisterStreamInput!) { registerStream(input: $in) { id } }');

  it('names a variable by the argument it feeds', () => {
    const variables = { in: { name: 'x', schema: { properties: JSON.parse('{"__proto__": {"type": "string"}}') } } };
    expect(findUnsafeOperationInput(register, undefined, variables)?.field).toBe('input.schema.properties.__proto__');
    expect(findUnsafeOperationInput(register, undefined, { in: { name: 'a\u0000' } })?.field).toBe('input.name');
  });

  it('finds literal values in the query text, in objects, lists and fragments', () => {
    const literal = parse('mutation { updateStreamSchema(id: "s", schema: { properties: { __proto__: { type: "string" } } }) { id } }');
    expect(findUnsafeOperationInput(literal, undefined, {})?.field).toBe('schema.properties.__proto__');
    const nul = parse('mutation { labelAnomaly(id: "a", label: TRUE_POSITIVE, note: "x\\u0000y") { id } }');
    expect(findUnsafeOperationInput(nul, undefined, {})).toEqual({ field: 'note', problem: expect.stringContaining('NUL') });
    const deep = parse(`mutation { updateStreamSchema(id: "s", schema: ${'['.repeat(70)}1${']'.repeat(70)}) { id } }`);
    expect(findUnsafeOperationInput(deep, undefined, {})?.problem).toMatch(/nested deeper/);
    const fragment = parse('query { ...F } fragment F on Query { stream(name: "a\\u0000") { id } }');
    expect(findUnsafeOperationInput(fragment, undefined, {})?.field).toBe('name');
  });

  it('passes ordinary operations, and ignores variables of other operations', () => {
    expect(findUnsafeOperationInput(register, undefined, { in: { name: 'ok 😀', schema: { type: 'object' } } })).toBeUndefined();
    const two = parse('query A($x: String) { stream(name: $x) { id } } query B { viewer { apiKey { id } } }');
    expect(findUnsafeOperationInput(two, 'B', { x: 'a\u0000' })).toBeUndefined();
    expect(findUnsafeOperationInput(two, 'A', { x: 'a\u0000' })?.field).toBe('name');
  });
});
