import { describe, expect, it } from 'vitest';
import { assertValidStreamSchema, compileValidator } from '../../src/stream/json-schema.ts';
import { STREAM_SCHEMA_LIMITS, scanStreamSchema } from '../../src/stream/schema-limits.ts';
import { schemaIncompatibilities } from '../../src/stream/schema-compatibility.ts';
import { badInput } from '../support/bad-input.ts';

const L = STREAM_SCHEMA_LIMITS;

/** A stream schema whose one property `v` is `property`. */
function withProperty(property: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', properties: { v: property } };
}

/** `levels` schemas nested through properties.a, the innermost a number. */
function nested(levels: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'number' };
  for (let i = 1; i < levels; i++) schema = { type: 'object', properties: { a: schema } };
  return schema;
}

function refusal(schema: unknown): string {
  const error = badInput(() => assertValidStreamSchema(schema, 'input.schema'));
  expect(error.code).toBe('BAD_USER_INPUT');
  expect(error.field).toBe('input.schema');
  return error.message;
}

describe('stream schema limits', () => {
  it('accepts an ordinary schema with room to spare', () => {
    const schema = withProperty({ type: 'string', enum: Array.from({ length: L.maxListEntries }, (_, i) => `s${i}`) });
    expect(scanStreamSchema(schema)).toEqual({ ok: true, patterns: [] });
    expect(() => assertValidStreamSchema(schema, 'input.schema')).not.toThrow();
  });

  it('refuses an enum past the list limit, naming where, the limit and its value', () => {
    const message = refusal(withProperty({ enum: Array.from({ length: 200_000 }, (_, i) => i) }));
    expect(message).toBe(
      `input.schema: exceeds the stream schema limits: /properties/v/enum has 200000 entries; the limit is ${L.maxListEntries} (maxListEntries)`,
    );
  });

  it.each([
    ['examples', { examples: Array.from({ length: L.maxListEntries + 1 }, (_, i) => i) }, '/properties/v/examples'],
    ['an array const', { const: Array.from({ length: L.maxListEntries + 1 }, () => 0) }, '/properties/v/const'],
    ['an array nested in an enum', { enum: [Array.from({ length: L.maxListEntries + 1 }, () => 0)] }, '/properties/v/enum/0'],
  ])('refuses %s past the list limit', (_, property, pointer) => {
    expect(refusal(withProperty(property))).toContain(`${pointer} has ${L.maxListEntries + 1} entries`);
  });

  it('counts nesting in subschemas, not in the maps and lists holding them', () => {
    expect(scanStreamSchema(nested(L.maxDepth)).ok).toBe(true);
    const message = refusal(nested(L.maxDepth + 1));
    expect(message).toContain(`is nested ${L.maxDepth + 1} levels deep; the limit is ${L.maxDepth} (maxDepth)`);
    expect(message).toContain(`/properties/a`.repeat(L.maxDepth));
  });

  it('refuses deep data inside a keyword, without overflowing the stack on the way', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(refusal(withProperty({ default: deep }))).toContain('(maxDepth)');
  });

  it('refuses a schema larger than the byte limit, huge strings included', () => {
    expect(refusal(withProperty({ type: 'string', description: 'x'.repeat(2 * 1024 * 1024) }))).toContain(
      `the schema serializes to more than ${L.maxBytes} bytes of JSON; the limit is ${L.maxBytes} (maxBytes)`,
    );
    // Under the string lower bound, over once serialized: many short strings with JSON's quotes and commas.
    const properties = Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`p${i}`, { type: 'string', title: 't'.repeat(40) }]));
    expect(refusal({ type: 'object', properties })).toMatch(/the schema serializes to \d+ bytes of JSON; the limit is 65536 \(maxBytes\)/);
  });

  it('refuses more JSON values than the node limit', () => {
    const allOf = Array.from({ length: 999 }, () => ({ type: 'object', properties: { a: {}, b: {}, c: {}, d: {} } }));
    expect(refusal({ type: 'object', properties: {}, allOf, anyOf: allOf })).toContain(
      `the schema has more than ${L.maxNodes} JSON values (subschemas, keywords, list entries); the limit is ${L.maxNodes} (maxNodes)`,
    );
  });

  it('refuses too many properties in one object', () => {
    const properties = Object.fromEntries(Array.from({ length: L.maxProperties + 1 }, (_, i) => [`p${i}`, {}]));
    expect(refusal({ type: 'object', properties })).toContain(`/properties declares ${L.maxProperties + 1} properties; the limit is ${L.maxProperties}`);
  });

  it('counts pattern and patternProperties together, and caps their length', () => {
    const patternProperties = Object.fromEntries(Array.from({ length: L.maxPatterns }, (_, i) => [`^p${i}$`, {}]));
    expect(scanStreamSchema({ type: 'object', properties: {}, patternProperties }).ok).toBe(true);
    expect(refusal({ type: 'object', properties: { v: { type: 'string', pattern: '^a$' } }, patternProperties })).toContain(
      `the limit is ${L.maxPatterns} (maxPatterns)`,
    );
    expect(refusal(withProperty({ type: 'string', pattern: 'a'.repeat(L.maxPatternLength + 1) }))).toContain(
      `/properties/v/pattern is a pattern of ${L.maxPatternLength + 1} characters; the limit is ${L.maxPatternLength} (maxPatternLength)`,
    );
  });

  it('escapes property names in the JSON pointer', () => {
    const schema = { type: 'object', properties: { 'a/b~c': { type: 'string', pattern: 'x'.repeat(L.maxPatternLength + 1) } } };
    expect(refusal(schema)).toContain('/properties/a~1b~0c/pattern');
  });

  it('reads keywords only where a schema is: a property named "pattern" or "enum" is no keyword', () => {
    const schema = {
      type: 'object',
      properties: { pattern: { type: 'string' }, enum: { type: 'object', properties: { $ref: { type: 'string' } } } },
      examples: [{ pattern: '(a)\\1', $ref: 'https://example.com/x' }],
    };
    expect(scanStreamSchema(schema)).toEqual({ ok: true, patterns: [] });
  });

  it('allows only local $ref', () => {
    expect(scanStreamSchema({ definitions: { n: { type: 'number' } }, properties: { v: { $ref: '#/definitions/n' } } }).ok).toBe(true);
    for (const ref of ['https://example.com/schema.json', 'other.json#/n', 'file:///etc/passwd']) {
      expect(refusal(withProperty({ $ref: ref }))).toContain(`/properties/v/$ref ${JSON.stringify(ref)} is not a local reference`);
    }
  });

  it('lists every pattern with where it is, for the regex engine', () => {
    const scan = scanStreamSchema({
      type: 'object',
      properties: { id: { type: 'string', pattern: '^[a-f0-9]{8}$' } },
      patternProperties: { '^x-': { type: 'string' } },
      allOf: [{ propertyNames: { pattern: '^[a-z_-]+$' } }],
    });
    expect(scan.ok && [...scan.patterns].sort((a, b) => a.pointer.localeCompare(b.pointer))).toEqual([
      { pointer: '/allOf/0/propertyNames/pattern', source: '^[a-z_-]+$' },
      { pointer: '/patternProperties/^x-', source: '^x-' },
      { pointer: '/properties/id/pattern', source: '^[a-f0-9]{8}$' },
    ]);
  });
});

describe('stored schemas over the limits', () => {
  it('are not compiled: compileValidator says which limit, for the worker to dead-letter with', () => {
    expect(() => compileValidator(withProperty({ enum: Array.from({ length: 200_000 }, (_, i) => i) }))).toThrow(
      /^stream schema exceeds limits: \/properties\/v\/enum has 200000 entries; the limit is 1000 \(maxListEntries\)$/,
    );
  });

  it('are not compared for compatibility, old or new', () => {
    const small = withProperty({ enum: [1, 2] });
    const huge = withProperty({ enum: Array.from({ length: 200_000 }, (_, i) => i) });
    expect(schemaIncompatibilities(huge, small)).toEqual([
      'cannot prove compatible: a schema exceeds the stream schema limits: /properties/v/enum has 200000 entries; the limit is 1000 (maxListEntries)',
    ]);
    expect(schemaIncompatibilities(small, huge)[0]).toMatch(/^cannot prove compatible: a schema exceeds the stream schema limits/);
  });
});
