import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../src/stream/json-schema.ts';
import { removedFields, schemaIncompatibilities } from '../../src/stream/schema-compatibility.ts';

const base = {
  type: 'object',
  properties: {
    host: { type: 'string', pattern: '^[a-z0-9-]+$' },
    region: { type: 'string', enum: ['eu', 'us'] },
    latency_ms: { type: 'number', minimum: 0, maximum: 60000 },
    errors: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string', maxLength: 50 } },
    at: { type: 'string', format: 'date-time' },
    route: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  },
  required: ['host', 'latency_ms'],
} satisfies JsonSchema;

/** A copy of `base` with `change` applied to a deep clone, as a user editing the schema would. */
function changed(change: (schema: typeof base & Record<string, unknown>) => void): JsonSchema {
  const copy = structuredClone(base) as typeof base & Record<string, unknown>;
  change(copy);
  return copy;
}

describe('schemaIncompatibilities: compatible changes', () => {
  it('finds nothing for an identical schema or a reordered one', () => {
    expect(schemaIncompatibilities(base, structuredClone(base))).toEqual([]);
    const reordered = { required: base.required, properties: base.properties, type: base.type };
    expect(schemaIncompatibilities(base, reordered)).toEqual([]);
  });

  it('accepts adding an optional property', () => {
    const next = changed((s) => {
      (s.properties as Record<string, unknown>).cpu = { type: 'number' };
    });
    expect(schemaIncompatibilities(base, next)).toEqual([]);
  });

  it('accepts widening integer to number', () => {
    const next = changed((s) => {
      s.properties.errors.type = 'number';
    });
    expect(schemaIncompatibilities(base, next)).toEqual([]);
  });

  it('accepts loosening: dropping required, adding an enum value, raising maximum, adding null, dropping a pattern', () => {
    const next = changed((s) => {
      s.required = ['host'];
      s.properties.region.enum = ['eu', 'us', 'ap'];
      s.properties.latency_ms.maximum = 120000;
      (s.properties.errors as Record<string, unknown>).type = ['integer', 'null'];
      delete (s.properties.host as Record<string, unknown>).pattern;
      delete (s.properties.route as Record<string, unknown>).anyOf;
    });
    expect(schemaIncompatibilities(base, next)).toEqual([]);
  });

  it('ignores annotations', () => {
    const next = changed((s) => {
      s.title = 'Request metrics';
      (s.properties.latency_ms as Record<string, unknown>).description = 'end-to-end';
    });
    expect(schemaIncompatibilities(base, next)).toEqual([]);
  });

  it('treats true and {} as accepting everything', () => {
    expect(schemaIncompatibilities(base, true)).toEqual([]);
    expect(schemaIncompatibilities(false, base)).toEqual([]);
  });
});

describe('schemaIncompatibilities: breaking changes, each with its path', () => {
  it('reports narrowing number to integer', () => {
    const next = changed((s) => {
      s.properties.latency_ms.type = 'integer';
    });
    expect(schemaIncompatibilities(base, next)).toEqual([
      'properties.latency_ms.type: values of type number are no longer accepted (was ["number"], now ["integer"])',
    ]);
  });

  it('reports a changed type', () => {
    const next = changed((s) => {
      s.properties.latency_ms.type = 'string';
    });
    expect(schemaIncompatibilities(base, next)).toEqual([
      'properties.latency_ms.type: values of type number are no longer accepted (was ["number"], now ["string"])',
    ]);
  });

  it('reports a newly required field', () => {
    const next = changed((s) => {
      s.required = ['host', 'latency_ms', 'region'];
    });
    expect(schemaIncompatibilities(base, next)).toEqual(['required: "region" is newly required']);
  });

  it('reports a removed enum value', () => {
    const next = changed((s) => {
      s.properties.region.enum = ['eu'];
    });
    expect(schemaIncompatibilities(base, next)).toEqual(['properties.region.enum: "us" is no longer allowed']);
  });

  it('reports a tightened maximum and minimum', () => {
    const next = changed((s) => {
      s.properties.latency_ms.maximum = 30000;
      (s.properties.latency_ms as Record<string, unknown>).exclusiveMinimum = 0;
    });
    expect(schemaIncompatibilities(base, next)).toEqual([
      'properties.latency_ms.exclusiveMinimum: lower bound tightened (was >= 0, now > 0)',
      'properties.latency_ms.maximum: upper bound tightened (was <= 60000, now <= 30000)',
    ]);
  });

  it('reports setting additionalProperties to false', () => {
    const next = changed((s) => {
      s.additionalProperties = false;
    });
    expect(schemaIncompatibilities(base, next)).toEqual([
      'additionalProperties: properties not listed in "properties" are no longer accepted (was absent, now false)',
    ]);
  });

  it('reports a property removed while additionalProperties is false', () => {
    const closed = { ...structuredClone(base), additionalProperties: false };
    const next = structuredClone(closed) as typeof closed;
    delete (next.properties as Record<string, unknown>).tags;
    expect(schemaIncompatibilities(closed, next)).toEqual([
      'properties.tags: removed while additionalProperties is false, so events carrying "tags" are now rejected',
    ]);
  });

  it('reports a changed pattern and a new format', () => {
    const next = changed((s) => {
      s.properties.host.pattern = '^[a-z]+$';
      (s.properties.host as Record<string, unknown>).format = 'hostname';
    });
    const problems = schemaIncompatibilities(base, next);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^properties\.host\.pattern: changed from "\^\[a-z0-9-\]\+\$" to "\^\[a-z\]\+\$"/);
    expect(problems[1]).toMatch(/^properties\.host\.format: changed from absent to "hostname"/);
  });

  it('reports a changed anyOf as unprovable', () => {
    const next = changed((s) => {
      s.properties.route.anyOf = [{ type: 'string' }];
    });
    expect(schemaIncompatibilities(base, next)).toEqual([
      'properties.route.anyOf: changed; cannot prove compatible (was [{"type":"string"},{"type":"null"}], now [{"type":"string"}])',
    ]);
  });

  it('recurses into items', () => {
    const next = changed((s) => {
      s.properties.tags.items.maxLength = 20;
    });
    expect(schemaIncompatibilities(base, next)).toEqual(['properties.tags.items.maxLength: tightened from 50 to 20']);
  });

  it('reports a newly typed property and a schema that accepts nothing', () => {
    const untyped = { type: 'object', properties: { v: {} } };
    expect(schemaIncompatibilities(untyped, { type: 'object', properties: { v: { type: 'number' } } })).toEqual([
      'properties.v.type: values of any type were accepted, now only ["number"]',
    ]);
    expect(schemaIncompatibilities(base, false)).toEqual(['(root): the new schema accepts no value at all']);
  });

  it('reports a change of dialect', () => {
    const next = changed((s) => {
      s.$schema = 'https://json-schema.org/draft/2020-12/schema';
    });
    expect(schemaIncompatibilities(base, next)[0]).toMatch(/^\$schema: the JSON Schema dialect changed/);
    const explicit07 = changed((s) => {
      s.$schema = 'http://json-schema.org/draft-07/schema#';
    });
    expect(schemaIncompatibilities(base, explicit07)).toEqual([]);
  });

  it('reports several problems at once', () => {
    const next = changed((s) => {
      s.required = ['host', 'latency_ms', 'errors'];
      s.properties.region.enum = ['eu'];
      s.properties.tags.type = 'string';
    });
    expect(schemaIncompatibilities(base, next)).toHaveLength(3);
  });
});

describe('removedFields', () => {
  it('lists the given paths that existed before and are gone now', () => {
    const nested = { type: 'object', properties: { a: { type: 'number' }, http: { type: 'object', properties: { status: { type: 'integer' } } } } };
    const next = { type: 'object', properties: { a: { type: 'number' }, http: { type: 'object', properties: {} } } };
    expect(removedFields(nested, next, ['a', 'http.status', 'never.there'])).toEqual(['http.status']);
    expect(removedFields(nested, nested, ['a', 'http.status'])).toEqual([]);
  });
});
