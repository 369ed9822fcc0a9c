import { RE2JS } from 're2js';
import { describe, expect, it, vi } from 'vitest';
import type { StreamSpec } from '../../src/stream/catalog.ts';
import { storedContract } from '../../src/stream/contracts.ts';
import { decodeMessage } from '../../src/stream/decode.ts';
import { assertValidStreamSchema, compileValidator } from '../../src/stream/json-schema.ts';
import { linearRegExp } from '../../src/stream/linear-regexp.ts';
import { badInput } from '../support/bad-input.ts';

const CATASTROPHIC = '^(a+)+$';
// V8 needs seconds for this on `^(a+)+$` (about 2^50 paths); RE2 reads it once.
const HOSTILE = `${'a'.repeat(50)}!`;

function contractWithPattern(pattern: string) {
  return { type: 'object', properties: { code: { type: 'string', pattern } } };
}

describe('linearRegExp (RE2)', () => {
  it('answers a catastrophic-backtracking pattern on a hostile string', () => {
    const regex = linearRegExp(CATASTROPHIC);
    expect(regex.test(HOSTILE)).toBe(false);
    expect(regex.test('a'.repeat(50))).toBe(true);
    expect(regex.test(`${'a'.repeat(1_000_000)}!`)).toBe(false);
  });

  it('keeps anchors as ECMAScript means them: unanchored finds, $ is the very end', () => {
    expect(linearRegExp('abc').test('xxabcxx')).toBe(true);
    expect(linearRegExp('^abc').test('xabc')).toBe(false);
    expect(linearRegExp('^abc$').test('abc\n')).toBe(false);
    expect(linearRegExp('^abc$').test('abc')).toBe(true);
  });

  it('keeps character classes, escapes and counted repetition', () => {
    const uuid = linearRegExp('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
    expect(uuid.test('123e4567-e89b-12d3-a456-426614174000')).toBe(true);
    expect(uuid.test('123e4567-e89b-12d3-a456-42661417400')).toBe(false);
    expect(linearRegExp('^\\d{3}-\\w+$').test('123-abc_D')).toBe(true);
    expect(linearRegExp('^[^/]+/[^/]+$').test('a/b')).toBe(true);
    expect(linearRegExp('^[^/]+/[^/]+$').test('a/b/c')).toBe(false);
    expect(linearRegExp('^(?<year>\\d{4})-(?:0[1-9]|1[0-2])$').test('2024-12')).toBe(true);
  });

  it('keeps Unicode: code points, \\u escapes and property classes', () => {
    expect(linearRegExp('^.$').test('😀')).toBe(true);
    expect(linearRegExp('^\\u00e9$').test('é')).toBe(true);
    expect(linearRegExp('^\\u{1F600}$').test('😀')).toBe(true);
    expect(linearRegExp('^\\p{L}+$').test('Grüße')).toBe(true);
    expect(linearRegExp('^\\p{L}+$').test('Grüße!')).toBe(false);
  });

  it('keeps what \\s and . mean in ECMAScript where RE2 differs', () => {
    for (const space of [' ', '\t', '\u000b', '\u00a0', '\u2028', '\u3000', '\ufeff']) {
      expect(linearRegExp('^\\s$').test(space)).toBe(/^\s$/u.test(space));
      expect(linearRegExp('^[\\sx]$').test(space)).toBe(true);
      expect(linearRegExp('^\\S$').test(space)).toBe(false);
    }
    for (const terminator of ['\n', '\r', '\u2028', '\u2029']) expect(linearRegExp('^.$').test(terminator)).toBe(false);
    expect(linearRegExp('^[.]$').test('.')).toBe(true);
    expect(linearRegExp('^[.]$').test('x')).toBe(false);
    expect(linearRegExp('^\\.$').test('x')).toBe(false);
  });

  it.each([
    ['a backreference', '^(a)\\1$'],
    ['a lookahead', '^(?=a)\\w+$'],
    ['a negative lookahead', '^(?!admin)\\w+$'],
    ['a lookbehind', '(?<=\\$)\\d+'],
  ])('refuses %s, saying the pattern needs RE2 syntax', (_, pattern) => {
    expect(() => linearRegExp(pattern)).toThrow(/is not a linear-time pattern: it must use RE2 syntax, which has no backreferences, lookahead or lookbehind/);
  });

  it('refuses a pattern whose RE2 program is too large', () => {
    expect(() => linearRegExp('^[a-z]{1,1000}$')).toThrow(/compiles to \d+ RE2 instructions; the limit is 1000 \(maxPatternProgramSize\)/);
    expect(() => linearRegExp('^[a-z]{1,255}$')).not.toThrow();
  });
});

describe('stream schemas and the regex engine', () => {
  it('validate `pattern` with RE2, not with V8 RegExp', () => {
    const validate = compileValidator(contractWithPattern('^[a-z]+$'));
    const re2Test = vi.spyOn(RE2JS.prototype, 'test');
    const v8Test = vi.spyOn(RegExp.prototype, 'test');
    let verdict: unknown;
    let calls: { re2: unknown[][]; v8: unknown[][] };
    try {
      verdict = validate({ code: 'abc' });
    } finally {
      // Read and restored before asserting: the matchers below use RegExp themselves.
      calls = { re2: [...re2Test.mock.calls], v8: [...v8Test.mock.calls] };
      re2Test.mockRestore();
      v8Test.mockRestore();
    }
    expect(verdict).toEqual({ ok: true });
    expect(calls).toEqual({ re2: [['abc']], v8: [] });
  });

  it('accepts a catastrophic pattern, which then runs linearly in the validator', () => {
    const schema = contractWithPattern(CATASTROPHIC);
    expect(() => assertValidStreamSchema(schema, 'input.schema')).not.toThrow();
    const validate = compileValidator(schema);
    expect(validate({ code: HOSTILE })).toEqual({ ok: false, reason: '/code must match pattern "^(a+)+$"' });
    expect(validate({ code: 'aaa' })).toEqual({ ok: true });
  });

  it('runs patternProperties on RE2 too, each pattern with its own meaning', () => {
    const validate = compileValidator({
      type: 'object',
      properties: {},
      patternProperties: { '^(x+)+$': { type: 'number' }, '^y': { type: 'string' } },
      additionalProperties: false,
    });
    expect(validate({ xxx: 1, yes: 'y' })).toEqual({ ok: true });
    expect(validate({ [`${'x'.repeat(50)}!`]: 1 }).ok).toBe(false);
    expect(validate({ yes: 1 }).ok).toBe(false);
  });

  it('refuses a backreference at registration, naming the field and where the pattern is', () => {
    const error = badInput(() => assertValidStreamSchema(contractWithPattern('^(\\w)\\1$'), 'input.schema'));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('input.schema');
    expect(error.message).toMatch(/^input\.schema: \/properties\/code\/pattern "\^\(\\\\w\)\\\\1\$" is not a linear-time pattern: it must use RE2 syntax/);
  });

  it('names a refused patternProperties name by its pointer', () => {
    const schema = { type: 'object', properties: {}, patternProperties: { '^(?!x)': {} } };
    expect(badInput(() => assertValidStreamSchema(schema, 'schema')).message).toContain('schema: /patternProperties/^(?!x) "^(?!x)" is not a linear-time pattern');
  });

  it('turns a stored schema RE2 cannot run into a validator refusing every event, saying why', () => {
    const contract = storedContract(contractWithPattern('^(a)\\1$'));
    expect(contract.unusable).toMatch(/^stream schema does not compile: \/properties\/code\/pattern .* is not a linear-time pattern/);
    expect(contract.validate({ code: 'aa' })).toEqual({ ok: false, reason: contract.unusable });
  });

  it('turns a stored schema over the limits into a refusing validator without compiling it', () => {
    const contract = storedContract({ type: 'object', properties: { s: { enum: Array.from({ length: 200_000 }, (_, i) => i) } } });
    expect(contract.unusable).toBe('stream schema exceeds limits: /properties/s/enum has 200000 entries; the limit is 1000 (maxListEntries)');
    expect(contract.validate({ s: 1 })).toEqual({ ok: false, reason: contract.unusable });
    expect(storedContract(contractWithPattern('^a$')).unusable).toBeUndefined();
  });
});

describe('a validation that throws', () => {
  // A recursive schema and data nested past the stack: ajv's generated code overflows it.
  const recursive = { type: 'object', properties: { a: { $ref: '#' } } };
  const deep = JSON.parse(`${'{"a":'.repeat(100_000)}{}${'}'.repeat(100_000)}`) as unknown;

  it('is a refusal with the reason, not an exception', () => {
    const verdict = compileValidator(recursive)(deep);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toMatch(/^validation failed: Maximum call stack size exceeded/);
  });

  it('becomes a dead letter in the worker, whatever validator threw', () => {
    const stream: StreamSpec = {
      id: 'str_TEST',
      name: 'poison',
      topic: 'poison',
      keyField: null,
      timestampField: null,
      keyPath: null,
      timestampPath: null,
      status: 'ACTIVE',
      schemaVersion: 3,
      validate: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
      detectors: [],
    };
    const message = { offset: '7', key: null, value: Buffer.from('{"a":1}'), timestamp: Date.now(), headers: {} };
    expect(decodeMessage(message, stream, 1024)).toEqual({
      ok: false,
      reason: 'contract violation (schema v3): validation failed: Maximum call stack size exceeded',
      payload: '{"a":1}',
    });
  });
});
