import { describe, expect, it } from 'vitest';
import { ID_PREFIX, newId, nodeTypeOf, timeOrderedId, type NodeTypeName } from '../../src/core/ids.ts';
import { canonicalJson, entryHash, GENESIS_HASH } from '../../src/audit/audit-log.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, encodeCursor, parsePage } from '../../src/services/pagination.ts';
import { fieldFromMessage } from '../../src/schema/errors.ts';
import { redactCredentials } from '../../src/schema/guard.ts';
import { streamNameFilter } from '../../src/stream/catalog.ts';
import { childTraceparent, isTraceparent, traceIdOf } from '../../src/telemetry/trace-context.ts';
import { badInput } from '../support/bad-input.ts';


describe('streamNameFilter', () => {
  it('accepts every name when no pattern is given', () => {
    expect(streamNameFilter(undefined)('anything')).toBe(true);
    expect(streamNameFilter([])('anything')).toBe(true);
  });

  it('matches whole names exactly without wildcards', () => {
    const accepts = streamNameFilter(['payments']);
    expect(accepts('payments')).toBe(true);
    expect(accepts('payments-eu')).toBe(false);
    expect(accepts('old-payments')).toBe(false);
    expect(accepts('Payments')).toBe(false);
  });

  it('treats * as any run of characters, anchored at both ends', () => {
    const accepts = streamNameFilter(['pay*', '*-prod', 'a*b*c']);
    expect(accepts('pay')).toBe(true);
    expect(accepts('payments')).toBe(true);
    expect(accepts('xpayments')).toBe(false);
    expect(accepts('api-prod')).toBe(true);
    expect(accepts('api-prod-2')).toBe(false);
    expect(accepts('aXXbYYc')).toBe(true);
    expect(accepts('abc')).toBe(true);
    expect(accepts('acb')).toBe(false);
    expect(streamNameFilter(['*'])('')).toBe(true);
  });

  it('takes regex metacharacters in names literally', () => {
    const accepts = streamNameFilter(['a.b', 'c++(v2)', '[x]|y', '$^{1}?\\']);
    expect(accepts('a.b')).toBe(true);
    expect(accepts('aXb')).toBe(false);
    expect(accepts('c++(v2)')).toBe(true);
    expect(accepts('ccc(v2)')).toBe(false);
    expect(accepts('c++v2')).toBe(false);
    expect(accepts('[x]|y')).toBe(true);
    expect(accepts('x')).toBe(false);
    expect(accepts('y')).toBe(false);
    expect(accepts('$^{1}?\\')).toBe(true);
    expect(accepts('$^{1}\\')).toBe(false);
  });

  it('mixes literal metacharacters with wildcards', () => {
    const accepts = streamNameFilter(['metrics.*.raw']);
    expect(accepts('metrics.cpu.raw')).toBe(true);
    expect(accepts('metrics..raw')).toBe(true);
    expect(accepts('metricsXcpuXraw')).toBe(false);
  });
});

describe('trace context', () => {
  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('recognises a W3C traceparent', () => {
    expect(isTraceparent(parent)).toBe(true);
    expect(isTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')).toBe(true);
  });

  it('refuses malformed traceparents', () => {
    expect(isTraceparent(undefined)).toBe(false);
    expect(isTraceparent(null)).toBe(false);
    expect(isTraceparent(42)).toBe(false);
    expect(isTraceparent('')).toBe(false);
    expect(isTraceparent(parent.toUpperCase())).toBe(false);
    expect(isTraceparent(`01${parent.slice(2)}`)).toBe(false); // unknown version
    expect(isTraceparent(`${parent}-extra`)).toBe(false);
    expect(isTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBe(false); // all-zero trace id
    expect(isTraceparent(`00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`)).toBe(false); // all-zero span id
    expect(isTraceparent('00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01')).toBe(false); // short trace id
    expect(isTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1')).toBe(false); // short flags
  });

  it('continues the caller trace with a new span', () => {
    const child = childTraceparent(parent);
    expect(isTraceparent(child)).toBe(true);
    expect(traceIdOf(child)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child.slice(36, 52)).not.toBe('00f067aa0ba902b7');
    expect(child.endsWith('-01')).toBe(true);
    expect(childTraceparent(parent)).not.toBe(child); // a new span each time
  });

  it('starts a new trace when the caller sent none or a bad one', () => {
    for (const incoming of [null, undefined, '', 'garbage', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`]) {
      const child = childTraceparent(incoming);
      expect(isTraceparent(child)).toBe(true);
      expect(traceIdOf(child)).not.toBe('0'.repeat(32));
    }
    expect(traceIdOf(childTraceparent(null))).not.toBe(traceIdOf(childTraceparent(null)));
  });

  it('reads the trace id, or null', () => {
    expect(traceIdOf(parent)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf('nope')).toBeNull();
    expect(traceIdOf(null)).toBeNull();
    expect(traceIdOf(undefined)).toBeNull();
  });
});

describe('pagination', () => {
  it('round-trips ids through opaque cursors', () => {
    for (const id of ['ano_01HZX3Q2J4K5M6N7P8Q9R0S1T2', 'x', 'with spaces/and+slashes=', 'é']) {
      const cursor = encodeCursor(id);
      expect(cursor).not.toContain(id);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/); // URL-safe, no padding
      expect(decodeCursor(cursor)).toBe(id);
    }
    expect(encodeCursor('a')).not.toBe(encodeCursor('b'));
  });

  it('refuses a cursor it did not make, naming the field', () => {
    for (const bad of ['garbage', Buffer.from('x:abc').toString('base64url'), Buffer.from('c:').toString('base64url'), '!!!']) {
      const error = badInput(() => decodeCursor(bad));
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.field).toBe('after');
      expect(error.message).toContain('is not a cursor returned by this API');
    }
    expect(badInput(() => decodeCursor('garbage', 'input.before')).field).toBe('input.before');
  });

  it('pages of 1 to 100, 20 by default', () => {
    expect(DEFAULT_PAGE_SIZE).toBe(20);
    expect(MAX_PAGE_SIZE).toBe(100);
    expect(parsePage({})).toEqual({ take: 20, afterId: undefined });
    expect(parsePage({ first: null, after: null })).toEqual({ take: 20, afterId: undefined });
    expect(parsePage({ first: 1 })).toEqual({ take: 1, afterId: undefined });
    expect(parsePage({ first: 100 })).toEqual({ take: 100, afterId: undefined });
    expect(parsePage({ first: 5, after: encodeCursor('det_X') })).toEqual({ take: 5, afterId: 'det_X' });
  });

  it('refuses a page size outside 1..100 on field first', () => {
    for (const first of [0, -1, 101, 1.5, Number.NaN]) {
      const error = badInput(() => parsePage({ first }));
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.field).toBe('first');
      expect(error.message).toContain('1 to 100');
    }
  });

  it('refuses a bad after cursor on field after', () => {
    const error = badInput(() => parsePage({ first: 10, after: 'not-a-cursor' }));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('after');
  });
});

describe('canonicalJson and entryHash', () => {
  it('writes keys in sorted order at every depth, whatever the insertion order', () => {
    const a = { b: 1, a: { y: [3, { q: 1, p: 2 }], x: null }, c: 'z' };
    const b = { c: 'z', a: { x: null, y: [3, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"x":null,"y":[3,{"p":2,"q":1}]},"b":1,"c":"z"}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('keeps array order, drops undefined properties and writes dates as ISO strings', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
    expect(canonicalJson({ a: 1, gone: undefined })).toBe('{"a":1}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) })).toBe('{"at":"2024-01-02T03:04:05.006Z"}');
    expect(canonicalJson('quote"d')).toBe('"quote\\"d"');
    expect(JSON.parse(canonicalJson({ z: [1, 'two', true, null], a: { n: -1.5 } }))).toEqual({ z: [1, 'two', true, null], a: { n: -1.5 } });
  });

  const entry = {
    id: 'aud_01HZX3Q2J4K5M6N7P8Q9R0S1T2',
    at: new Date(Date.UTC(2024, 5, 1, 12, 0, 0, 123)),
    actor: 'key ops-bot (key_1)',
    action: 'detector.update',
    target: 'det_42',
    detail: { args: { threshold: 4, window: 300 }, note: 'x' },
    outcome: 'ALLOWED',
  };

  it('hashes an entry to 64 hex characters, deterministically', () => {
    const hash = entryHash(GENESIS_HASH, entry);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(entryHash(GENESIS_HASH, { ...entry, at: new Date(entry.at.getTime()) })).toBe(hash);
  });

  it('does not depend on the key order of the detail', () => {
    const reordered = { ...entry, detail: { note: 'x', args: { window: 300, threshold: 4 } } };
    expect(entryHash(GENESIS_HASH, reordered)).toBe(entryHash(GENESIS_HASH, entry));
  });

  it('changes when any part of the content or the previous hash changes', () => {
    const base = entryHash(GENESIS_HASH, entry);
    const variants = [
      entryHash('1'.repeat(64), entry),
      entryHash(GENESIS_HASH, { ...entry, id: 'aud_01HZX3Q2J4K5M6N7P8Q9R0S1T3' }),
      entryHash(GENESIS_HASH, { ...entry, at: new Date(entry.at.getTime() + 1) }),
      entryHash(GENESIS_HASH, { ...entry, actor: 'someone else' }),
      entryHash(GENESIS_HASH, { ...entry, action: 'detector.delete' }),
      entryHash(GENESIS_HASH, { ...entry, target: 'det_43' }),
      entryHash(GENESIS_HASH, { ...entry, outcome: 'REFUSED' }),
      entryHash(GENESIS_HASH, { ...entry, detail: { args: { threshold: 5, window: 300 }, note: 'x' } }),
      entryHash(GENESIS_HASH, { ...entry, detail: { args: { threshold: '4', window: 300 }, note: 'x' } }),
      entryHash(GENESIS_HASH, { ...entry, detail: { args: { threshold: 4, window: 300 }, note: 'x', extra: true } }),
      entryHash(GENESIS_HASH, { ...entry, detail: null }),
      // Moving text between fields must not give the same content.
      entryHash(GENESIS_HASH, { ...entry, actor: `${entry.actor}","action":"x`, action: 'x' }),
    ];
    for (const variant of variants) expect(variant).not.toBe(base);
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('treats an undefined detail like a null one', () => {
    expect(entryHash(GENESIS_HASH, { ...entry, detail: undefined })).toBe(entryHash(GENESIS_HASH, { ...entry, detail: null }));
  });
});

describe('ids', () => {
  it('makes 26-character Crockford base32 ids whose first 10 characters encode the time', () => {
    const now = Date.UTC(2024, 5, 1, 12, 0, 0, 123);
    const id = timeOrderedId(now);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    let decoded = 0;
    for (const char of id.slice(0, 10)) decoded = decoded * 32 + alphabet.indexOf(char);
    expect(decoded).toBe(now);
  });

  it('sorts ids by time, including across carries', () => {
    const times = [0, 1, 31, 32, 33, 1023, 1024, 1_700_000_000_000, 1_700_000_000_001, Date.UTC(2100, 0, 1)];
    const ids = times.map((t) => timeOrderedId(t));
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    // Shuffled creation order still sorts back into time order.
    const later = timeOrderedId(1_700_000_000_002);
    const earlier = timeOrderedId(1_699_999_999_999);
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it('makes distinct ids within the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => timeOrderedId(1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });

  it('prefixes ids with their node type and reads it back', () => {
    for (const type of Object.keys(ID_PREFIX) as NodeTypeName[]) {
      const id = newId(type, 1_700_000_000_000);
      expect(id.startsWith(`${ID_PREFIX[type]}_`)).toBe(true);
      expect(nodeTypeOf(id)).toBe(type);
    }
    expect(nodeTypeOf('det_01HZX3Q2J4K5M6N7P8Q9R0S1T2')).toBe('Detector');
    expect(nodeTypeOf('ano_01HZX3Q2J4K5M6N7P8Q9R0S1T2')).toBe('Anomaly');
    expect(nodeTypeOf('zzz_01HZX3Q2J4K5M6N7P8Q9R0S1T2')).toBeUndefined();
    expect(nodeTypeOf('DET_01HZX3Q2J4K5M6N7P8Q9R0S1T2')).toBeUndefined();
    expect(nodeTypeOf('')).toBeUndefined();
  });

  it('ids of one type sort by creation time', () => {
    const a = newId('Incident', 1_700_000_000_000);
    const b = newId('Incident', 1_700_000_060_000);
    expect(a < b).toBe(true);
  });
});

describe('redactCredentials', () => {
  it('replaces credentials at any depth and keeps everything else', () => {
    const input = {
      name: 'pager',
      secret: 's3cr3t',
      config: {
        url: 'https://hooks.example/x',
        webhookSecret: 'abc',
        password: 'hunter2',
        accessToken: 'tok',
        Authorization: 'Bearer xyz',
        headers: { 'X-Api-Key': 'k' },
        timeoutMs: 500,
      },
      steps: [{ kind: 'WEBHOOK', token: 't1', retries: 2 }, 'plain', 3],
    };
    expect(redactCredentials(input)).toEqual({
      name: 'pager',
      secret: '[redacted]',
      config: {
        url: 'https://hooks.example/x',
        webhookSecret: '[redacted]',
        password: '[redacted]',
        accessToken: '[redacted]',
        Authorization: '[redacted]',
        headers: '[redacted]',
        timeoutMs: 500,
      },
      steps: [{ kind: 'WEBHOOK', token: '[redacted]', retries: 2 }, 'plain', 3],
    });
  });

  it('does not mutate its input', () => {
    const input = { secret: 'x', nested: { password: 'y' } };
    redactCredentials(input);
    expect(input).toEqual({ secret: 'x', nested: { password: 'y' } });
  });

  it('keeps absent credentials visible as absent, and only redacts "headers" by its exact name', () => {
    expect(redactCredentials({ secret: null, token: undefined })).toEqual({ secret: null, token: undefined });
    expect(redactCredentials({ requestHeaders: ['a'], headersCount: 2 })).toEqual({ requestHeaders: ['a'], headersCount: 2 });
  });

  it('leaves scalars, null and dates alone', () => {
    const date = new Date(0);
    expect(redactCredentials(date)).toBe(date);
    expect(redactCredentials(null)).toBeNull();
    expect(redactCredentials('secret')).toBe('secret');
    expect(redactCredentials(7)).toBe(7);
    expect(redactCredentials([{ password: 'p' }])).toEqual([{ password: '[redacted]' }]);
  });
});

describe('fieldFromMessage', () => {
  it('names the input path of a variable coercion error', () => {
    expect(fieldFromMessage('Variable "$input" got invalid value 5 at "input.partitions"; Int cannot represent 5.5')).toBe(
      'input.partitions',
    );
    expect(fieldFromMessage('Variable "$input" got invalid value "x" at "input.valueFields[1]"; Expected type "String".')).toBe(
      'input.valueFields[1]',
    );
  });

  it('names the variable when no path is given', () => {
    expect(fieldFromMessage('Variable "$id" of required type "ID!" was not provided.')).toBe('id');
    expect(fieldFromMessage('Variable "$input" got invalid value null; Expected non-nullable type "StreamInput!" not to be null.')).toBe(
      'input',
    );
  });

  it('names the argument of an argument error', () => {
    expect(fieldFromMessage('Field "streams" argument "first" of type "Int" is required, but it was not provided.')).toBe('first');
    expect(fieldFromMessage('Argument "after" has invalid value 5.')).toBe('after');
    expect(fieldFromMessage('argument "first" must be positive')).toBe('first');
  });

  it('names nothing for other messages', () => {
    expect(fieldFromMessage('Syntax Error: Expected Name, found <EOF>.')).toBeUndefined();
    expect(fieldFromMessage('Cannot query field "nope" on type "Query".')).toBeUndefined();
    expect(fieldFromMessage('The "$input" variable is odd')).toBeUndefined();
    expect(fieldFromMessage('')).toBeUndefined();
  });
});
