import { describe, expect, it } from 'vitest';
import type { StreamSpec } from '../../src/stream/catalog.ts';
import { decodeMessage, eventKeyOf, MAX_DEAD_LETTER_PAYLOAD, type Decoded, type DecodedEvent } from '../../src/stream/decode.ts';
import { compileValidator } from '../../src/stream/json-schema.ts';
import type { IncomingMessage } from '../../src/stream/transport.ts';

const schema = {
  type: 'object',
  properties: {
    host: { type: ['string', 'integer'] },
    at: { type: ['string', 'number'] },
    meta: { type: 'object', properties: { region: { type: 'string' } } },
    latency_ms: { type: ['number', 'null'] },
    note: { type: 'string' },
  },
  required: ['latency_ms'],
};

type StreamOverrides = Partial<Omit<StreamSpec, 'keyPath' | 'timestampPath'>>;

/** A stream as the catalog builds it: the key and timestamp paths are the fields split on dots. */
function streamSpec(overrides: StreamOverrides = {}): StreamSpec {
  const keyField = overrides.keyField === undefined ? 'host' : overrides.keyField;
  const timestampField = overrides.timestampField === undefined ? 'at' : overrides.timestampField;
  return {
    id: 'str_TEST',
    name: 'payments',
    topic: 'vigil.payments',
    status: 'ACTIVE',
    schemaVersion: 7,
    validate: compileValidator(schema),
    detectors: [],
    ...overrides,
    keyField,
    timestampField,
    keyPath: keyField ? keyField.split('.') : null,
    timestampPath: timestampField ? timestampField.split('.') : null,
  };
}

const KAFKA_TIME = Date.UTC(2024, 4, 1, 12, 0, 0);
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function message(value: unknown, overrides: Partial<IncomingMessage> = {}): IncomingMessage {
  return {
    offset: '42',
    key: 'k-1',
    value: typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(JSON.stringify(value), 'utf8'),
    timestamp: KAFKA_TIME,
    headers: {},
    ...overrides,
  };
}

function ok(decoded: Decoded): DecodedEvent {
  if (!decoded.ok) throw new Error(`expected a decoded event, got a dead letter: ${decoded.reason}`);
  return decoded.event;
}

function failed(decoded: Decoded): { reason: string; payload: string } {
  if (decoded.ok) throw new Error('expected a dead letter, got an event');
  return decoded;
}

const LIMIT = 1024 * 1024;

describe('decodeMessage: valid events', () => {
  it('reads offset, value, series key and an ISO event time', () => {
    const value = { host: 'web-1', at: '2024-05-01T11:59:30.250Z', latency_ms: 12.5 };
    const event = ok(decodeMessage(message(value, { offset: '9007199254740993' }), streamSpec(), LIMIT));
    expect(event.offset).toBe(9007199254740993n); // beyond 2^53: kept exact
    expect(event.value).toEqual(value);
    expect(event.seriesKey).toBe('web-1');
    expect(event.eventTime).toBe(Date.UTC(2024, 4, 1, 11, 59, 30, 250));
    expect(event.kafkaTime).toBe(KAFKA_TIME);
    expect(event.traceparent).toBeNull();
  });

  it('takes an epoch-millisecond number as the event time', () => {
    const at = Date.UTC(2023, 0, 2, 3, 4, 5, 6);
    const event = ok(decodeMessage(message({ host: 'web-1', at, latency_ms: 1 }), streamSpec(), LIMIT));
    expect(event.eventTime).toBe(at);
    expect(event.kafkaTime).toBe(KAFKA_TIME);
  });

  it('falls back to the Kafka timestamp when the timestamp field is absent or null', () => {
    const absent = ok(decodeMessage(message({ host: 'web-1', latency_ms: 1 }), streamSpec(), LIMIT));
    expect(absent.eventTime).toBe(KAFKA_TIME);
    const nulled = ok(decodeMessage(message({ host: 'web-1', at: null, latency_ms: 1 }), streamSpec({ validate: compileValidator(true) }), LIMIT));
    expect(nulled.eventTime).toBe(KAFKA_TIME);
  });

  it('uses the Kafka timestamp when the stream has no timestamp field, even if the event has one', () => {
    const event = ok(
      decodeMessage(message({ host: 'web-1', at: '2020-01-01T00:00:00Z', latency_ms: 1 }), streamSpec({ timestampField: null }), LIMIT),
    );
    expect(event.eventTime).toBe(KAFKA_TIME);
  });

  it('reads dotted key and timestamp paths', () => {
    const spec = streamSpec({ keyField: 'meta.region', timestampField: 'meta.at', validate: compileValidator(true) });
    const event = ok(decodeMessage(message({ meta: { region: 'eu-west', at: 1_000 }, latency_ms: 1 }), spec, LIMIT));
    expect(event.seriesKey).toBe('eu-west');
    expect(event.eventTime).toBe(1_000);
  });

  it('turns a numeric key into a string, and a missing or null key into null', () => {
    expect(ok(decodeMessage(message({ host: 17, latency_ms: 1 }), streamSpec(), LIMIT)).seriesKey).toBe('17');
    expect(ok(decodeMessage(message({ latency_ms: 1 }), streamSpec(), LIMIT)).seriesKey).toBeNull();
    const anything = streamSpec({ validate: compileValidator(true) });
    expect(ok(decodeMessage(message({ host: null, latency_ms: 1 }), anything, LIMIT)).seriesKey).toBeNull();
    expect(ok(decodeMessage(message({ host: 'a', latency_ms: 1 }), streamSpec({ keyField: null }), LIMIT)).seriesKey).toBeNull();
  });

  it('keeps the Kafka key as given, including null, apart from the series key', () => {
    const keyless = message({ host: 'a', latency_ms: 1 }, { key: null });
    expect(eventKeyOf(keyless)).toBeNull();
    expect(ok(decodeMessage(keyless, streamSpec(), LIMIT)).seriesKey).toBe('a');
    expect(eventKeyOf(message({ host: 'a', latency_ms: 1 }))).toBe('k-1');
    expect(eventKeyOf(message({ host: 'a', latency_ms: 1 }, { key: 'k\u0000' }))).toBe('k\uFFFD');
  });

  it('carries the traceparent header', () => {
    const event = ok(
      decodeMessage(message({ host: 'a', latency_ms: 1 }, { headers: { traceparent: TRACEPARENT, other: 'x' } }), streamSpec(), LIMIT),
    );
    expect(event.traceparent).toBe(TRACEPARENT);
  });

  it('accepts an event of exactly the size limit', () => {
    const raw = JSON.stringify({ host: 'a', latency_ms: 1 });
    const event = ok(decodeMessage(message(raw), streamSpec(), Buffer.byteLength(raw)));
    expect(event.value).toEqual({ host: 'a', latency_ms: 1 });
  });

  it('is pure: the same message gives the same answer', () => {
    const m = message({ host: 'a', at: '2024-01-01T00:00:00Z', latency_ms: 3 }, { headers: { traceparent: TRACEPARENT } });
    expect(decodeMessage(m, streamSpec(), LIMIT)).toEqual(decodeMessage(m, streamSpec(), LIMIT));
  });
});

describe('decodeMessage: dead letters', () => {
  it('refuses malformed JSON, keeping the raw payload', () => {
    const raw = '{"host": "a", "latency_ms": 1';
    const result = failed(decodeMessage(message(raw), streamSpec(), LIMIT));
    expect(result.reason).toMatch(/^malformed JSON: /);
    expect(result.payload).toBe(raw);
  });

  it('refuses a message with no value (tombstone) as malformed JSON', () => {
    const result = failed(decodeMessage(message('', { value: null }), streamSpec(), LIMIT));
    expect(result.reason).toMatch(/^malformed JSON/);
    expect(result.payload).toBe('');
  });

  it('refuses a contract violation, naming the schema version and the field', () => {
    const raw = JSON.stringify({ host: 'a', latency_ms: 'fast' });
    const result = failed(decodeMessage(message(raw), streamSpec(), LIMIT));
    expect(result.reason).toMatch(/^contract violation \(schema v7\): /);
    expect(result.reason).toContain('latency_ms');
    expect(result.reason).toContain('number');
    expect(result.payload).toBe(raw);
  });

  it('names a missing required field', () => {
    const result = failed(decodeMessage(message({ host: 'a' }), streamSpec(), LIMIT));
    expect(result.reason).toMatch(/^contract violation/);
    expect(result.reason).toContain('latency_ms');
  });

  it('refuses a JSON value that is not an object', () => {
    const result = failed(decodeMessage(message('[1,2,3]'), streamSpec(), LIMIT));
    expect(result.reason).toMatch(/^contract violation/);
    expect(result.reason).toContain('object');
  });

  it('refuses an oversized message against the limit passed in, before parsing it', () => {
    const raw = '{"host": "a", "latency_ms": 1}'; // 30 bytes, valid JSON
    const result = failed(decodeMessage(message(raw), streamSpec(), 29));
    expect(result.reason).toBe('oversized: 30 bytes, the limit is 29');
    expect(result.payload).toBe(raw);
    // Even malformed JSON is reported as oversized: size is checked first.
    expect(failed(decodeMessage(message('x'.repeat(50)), streamSpec(), 10)).reason).toBe('oversized: 50 bytes, the limit is 10');
  });

  it('counts bytes, not characters', () => {
    const raw = JSON.stringify({ host: 'é', latency_ms: 1 }); // 'é' is 2 bytes in UTF-8
    const bytes = Buffer.byteLength(raw);
    expect(bytes).toBe(raw.length + 1);
    expect(failed(decodeMessage(message(raw), streamSpec(), raw.length)).reason).toBe(
      `oversized: ${bytes} bytes, the limit is ${raw.length}`,
    );
    expect(ok(decodeMessage(message(raw), streamSpec(), bytes)).seriesKey).toBe('é');
  });

  it('refuses a timestamp field that is not a time', () => {
    const result = failed(decodeMessage(message({ host: 'a', at: 'yesterday-ish', latency_ms: 1 }), streamSpec(), LIMIT));
    expect(result.reason).toBe('at is not a time: "yesterday-ish"');
    const notFinite = failed(
      decodeMessage(message({ host: 'a', at: true, latency_ms: 1 }), streamSpec({ validate: compileValidator(true) }), LIMIT),
    );
    expect(notFinite.reason).toBe('at is not a time: true');
  });

  it('cuts the payload of a dead letter to 64 KiB', () => {
    expect(MAX_DEAD_LETTER_PAYLOAD).toBe(64 * 1024);
    const raw = `{"note": "${'n'.repeat(200 * 1024)}`; // malformed and far above 64 KiB
    const malformed = failed(decodeMessage(message(raw), streamSpec(), LIMIT));
    expect(malformed.payload).toHaveLength(64 * 1024);
    expect(malformed.payload).toBe(raw.slice(0, 64 * 1024));

    const oversized = failed(decodeMessage(message(raw), streamSpec(), 1000));
    expect(oversized.reason).toMatch(/^oversized/);
    expect(oversized.payload).toBe(raw.slice(0, 64 * 1024));
  });

  it('keeps a payload under 64 KiB whole', () => {
    const raw = `{"host": [], "latency_ms": 1, "note": "${'n'.repeat(60 * 1024)}"}`;
    const result = failed(decodeMessage(message(raw), streamSpec(), LIMIT));
    expect(result.reason).toMatch(/^contract violation/);
    expect(result.reason).toContain('host');
    expect(result.payload).toBe(raw);
  });
});

describe('text PostgreSQL can store', () => {
  it('replaces U+0000 in dead-letter payloads, reasons and keys', async () => {
    const { pgText } = await import('../../src/stream/decode.ts');
    expect(pgText('a\u0000b')).toBe('a\uFFFDb');
    expect(pgText('plain')).toBe('plain');
  });
});
