import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../src/core/errors.ts';
import {
  assertStreamFields,
  assertValidStreamSchema,
  compileValidator,
  propertyAt,
  type JsonSchema,
} from '../../src/stream/json-schema.ts';
import { badInput } from '../support/bad-input.ts';


const schema = {
  type: 'object',
  properties: {
    host: { type: 'string' },
    shard: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    epoch: { type: 'integer' },
    latency_ms: { type: 'number', minimum: 0 },
    errors: { type: 'integer' },
    ratio: { type: ['number', 'null'] },
    mixed: { type: ['number', 'string'] },
    anything: {},
    flag: { type: 'boolean' },
    http: { type: 'object', properties: { status: { type: 'integer' } } },
  },
  required: ['host', 'latency_ms'],
} satisfies JsonSchema;

describe('assertValidStreamSchema', () => {
  it('accepts a draft-07 object schema, with or without $schema', () => {
    expect(() => assertValidStreamSchema(schema, 'input.schema')).not.toThrow();
    expect(() =>
      assertValidStreamSchema({ ...schema, $schema: 'http://json-schema.org/draft-07/schema#' }, 'input.schema'),
    ).not.toThrow();
  });

  it('accepts draft 2020-12 when $schema names it', () => {
    const modern = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { pair: { type: 'array', prefixItems: [{ type: 'number' }, { type: 'string' }] } },
      $defs: { n: { type: 'number' } },
    };
    expect(() => assertValidStreamSchema(modern, 'input.schema')).not.toThrow();
  });

  it('refuses an unsupported $schema, naming what is accepted', () => {
    const error = badInput(() =>
      assertValidStreamSchema({ ...schema, $schema: 'http://json-schema.org/draft-04/schema#' }, 'input.schema'),
    );
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('input.schema');
    expect(error.message).toMatch(/not supported/);
    expect(error.message).toContain('2020-12');
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['a boolean schema', true],
    ['a string', '{"type":"object"}'],
  ])('refuses %s', (_, value) => {
    const error = badInput(() => assertValidStreamSchema(value, 'input.schema'));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('input.schema');
    expect(error.message).toMatch(/must be a JSON Schema object/);
  });

  it("quotes ajv's reason for a schema the meta-schema rejects", () => {
    const error = badInput(() =>
      assertValidStreamSchema({ type: 'object', properties: { a: { type: 'strnig' } } }, 'schema'),
    );
    expect(error.field).toBe('schema');
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toContain('is not a valid JSON Schema');
    expect(error.message).toContain('schema/properties/a/type');
  });

  it('refuses a schema that does not compile (unresolvable $ref, bad regex)', () => {
    const ref = badInput(() =>
      assertValidStreamSchema({ type: 'object', properties: { a: { $ref: '#/definitions/missing' } } }, 'input.schema'),
    );
    expect(ref.field).toBe('input.schema');
    expect(ref.message).toMatch(/can't resolve reference/);
    const regex = badInput(() =>
      assertValidStreamSchema({ type: 'object', properties: { a: { type: 'string', pattern: '[[' } } }, 'input.schema'),
    );
    expect(regex.field).toBe('input.schema');
    expect(regex.code).toBe('BAD_USER_INPUT');
  });

  it('requires the root to be type object with properties', () => {
    const notObject = badInput(() => assertValidStreamSchema({ type: 'array', items: {} }, 'input.schema'));
    expect(notObject.field).toBe('input.schema');
    expect(notObject.message).toMatch(/"type": "object"/);
    const noProperties = badInput(() => assertValidStreamSchema({ type: 'object' }, 'input.schema'));
    expect(noProperties.field).toBe('input.schema');
    expect(noProperties.message).toMatch(/"properties"/);
  });
});

describe('propertyAt', () => {
  it('follows dotted paths through properties', () => {
    expect(propertyAt(schema, 'latency_ms')).toEqual({ type: 'number', minimum: 0 });
    expect(propertyAt(schema, 'http.status')).toEqual({ type: 'integer' });
  });

  it('is undefined for missing, malformed or inherited names', () => {
    expect(propertyAt(schema, 'nope')).toBeUndefined();
    expect(propertyAt(schema, 'http.nope')).toBeUndefined();
    expect(propertyAt(schema, 'latency_ms.x')).toBeUndefined();
    expect(propertyAt(schema, 'http.')).toBeUndefined();
    expect(propertyAt(schema, '')).toBeUndefined();
    expect(propertyAt(schema, 'constructor')).toBeUndefined();
    expect(propertyAt(true, 'a')).toBeUndefined();
  });
});

describe('assertStreamFields', () => {
  it('accepts numeric value fields, a string/integer key and a string/integer timestamp', () => {
    expect(() =>
      assertStreamFields(schema, { keyField: 'host', timestampField: 'at', valueFields: ['latency_ms', 'errors', 'ratio', 'http.status'] }),
    ).not.toThrow();
    expect(() => assertStreamFields(schema, { keyField: 'shard', timestampField: 'epoch', valueFields: ['latency_ms'] })).not.toThrow();
    expect(() => assertStreamFields(schema, { keyField: null, timestampField: null, valueFields: ['latency_ms'] })).not.toThrow();
    expect(() => assertStreamFields(schema, { valueFields: ['latency_ms'] })).not.toThrow();
  });

  it('requires at least one value field', () => {
    const error = badInput(() => assertStreamFields(schema, { valueFields: [] }));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('input.valueFields');
  });

  it('refuses a duplicate, naming the second occurrence', () => {
    const error = badInput(() => assertStreamFields(schema, { valueFields: ['latency_ms', 'errors', 'latency_ms'] }));
    expect(error.field).toBe('input.valueFields[2]');
    expect(error.message).toMatch(/listed twice/);
  });

  it('refuses a missing field and lists what exists', () => {
    const error = badInput(() => assertStreamFields(schema, { valueFields: ['latency_ms', 'latency'] }));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('input.valueFields[1]');
    expect(error.message).toContain('"latency" is not a property');
    expect(error.message).toContain('latency_ms');
    const nested = badInput(() => assertStreamFields(schema, { valueFields: ['http.code'] }));
    expect(nested.field).toBe('input.valueFields[0]');
    expect(nested.message).toContain('"http" has: status');
  });

  it.each([
    ['a string', 'host'],
    ['a number-or-string', 'mixed'],
    ['an untyped', 'anything'],
    ['a boolean', 'flag'],
    ['an object', 'http'],
  ])('refuses %s value field', (_, name) => {
    const error = badInput(() => assertStreamFields(schema, { valueFields: ['latency_ms', name] }, 'schema'));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('schema.valueFields[1]');
    expect(error.message).toMatch(/number or integer/);
  });

  it('refuses a key field that is not string or integer', () => {
    const error = badInput(() => assertStreamFields(schema, { keyField: 'latency_ms', valueFields: ['errors'] }));
    expect(error.field).toBe('input.keyField');
    expect(error.message).toMatch(/string or integer/);
    expect(badInput(() => assertStreamFields(schema, { keyField: 'missing', valueFields: ['errors'] })).field).toBe(
      'input.keyField',
    );
  });

  it('refuses a timestamp field that is not string, integer or number', () => {
    const error = badInput(() => assertStreamFields(schema, { timestampField: 'flag', valueFields: ['errors'] }));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('input.timestampField');
    expect(error.message).toMatch(/ISO-8601/);
  });
});

describe('compileValidator', () => {
  const validate = compileValidator(schema);

  it('accepts a valid event', () => {
    expect(validate({ host: 'a', latency_ms: 12.5, at: '2024-05-01T12:00:00Z' })).toEqual({ ok: true });
  });

  it('explains a rejection in one line with the JSON pointer', () => {
    const result = validate({ host: 'a', latency_ms: 'slow' });
    expect(result).toEqual({ ok: false, reason: '/latency_ms must be number' });
  });

  it('reports missing required properties, formats and several errors', () => {
    const missing = validate({ latency_ms: 1 });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.reason).toBe("(root) must have required property 'host'");
    const format = validate({ host: 'a', latency_ms: 1, at: 'yesterday' });
    if (format.ok) throw new Error('expected a rejection');
    expect(format.reason).toBe('/at must match format "date-time"');
    const several = validate({ latency_ms: -1, errors: 1.5 });
    if (several.ok) throw new Error('expected a rejection');
    expect(several.reason.split('; ')).toHaveLength(3);
    expect(several.reason).not.toContain('\n');
  });

  it('names an unexpected property', () => {
    const closed = compileValidator({ type: 'object', properties: { a: { type: 'number' } }, additionalProperties: false });
    expect(closed({ a: 1, b: 2 })).toEqual({ ok: false, reason: '(root) must not have property "b"' });
  });

  it('validates with draft 2020-12 semantics when asked', () => {
    const modern = compileValidator({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { pair: { type: 'array', prefixItems: [{ type: 'number' }] } },
    });
    expect(modern({ pair: [1, 'x'] })).toEqual({ ok: true });
    expect(modern({ pair: ['x'] })).toEqual({ ok: false, reason: '/pair/0 must be number' });
  });

  it('keeps schemas sharing an $id apart', () => {
    const a = compileValidator({ $id: 'https://example.com/event', type: 'object', properties: { v: { type: 'number' } } });
    const b = compileValidator({ $id: 'https://example.com/event', type: 'object', properties: { v: { type: 'string' } } });
    expect(a({ v: 1 }).ok).toBe(true);
    expect(b({ v: 1 }).ok).toBe(false);
  });

  it('handles boolean schemas', () => {
    expect(compileValidator(true)(42)).toEqual({ ok: true });
    expect(compileValidator(false)(42).ok).toBe(false);
  });

  it('throws an internal error for a schema that does not compile', () => {
    expect(() => compileValidator({ type: 'object', properties: { a: { $ref: '#/nope' } } })).toThrow(/does not compile/);
    expect(() => compileValidator({ type: 'object', properties: { a: { $ref: '#/nope' } } })).not.toThrow(BadUserInputError);
  });
});
