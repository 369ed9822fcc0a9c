import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/stream/checkpoint-format.ts';
import type { LastEvent } from '../../src/stream/partition-state.ts';

const event: LastEvent = {
  offset: 9_007_199_254_740_993n, // beyond 2^53: must survive as a string
  key: 'web-1',
  seriesKey: 'web-1',
  value: 41.5,
  eventTime: 1_796_000_000_000,
  kafkaTime: 1_796_000_000_123,
  schemaVersion: 3,
  traceparent: null,
};

describe('detector checkpoint format', () => {
  it('round-trips series states and the last event of each series through JSON', () => {
    const series = { 'web-1': { last: 1_796_000_000_123, alertedFor: null }, '': { last: null, alertedFor: null } };
    const stored = JSON.parse(JSON.stringify(encodeCheckpoint(series, { 'web-1': event })));
    expect(stored.sources['web-1'].offset).toBe('9007199254740993');
    expect(decodeCheckpoint(stored)).toEqual({ series, sources: { 'web-1': event } });
  });

  it('reads a checkpoint written before sources were kept as its series map, even with a series named "format"', () => {
    const legacy = { format: { n: 3 }, 'web-2': { n: 1 } };
    expect(decodeCheckpoint(legacy)).toEqual({ series: legacy, sources: {} });
    expect(decodeCheckpoint(null)).toEqual({ series: {}, sources: {} });
  });

  it('drops a source that does not have the shape of an event, keeping the rest', () => {
    const stored = JSON.parse(JSON.stringify(encodeCheckpoint({}, { a: event, b: event })));
    stored.sources.b.offset = '-1';
    stored.sources.c = { ...stored.sources.a, value: 'high' };
    expect(Object.keys(decodeCheckpoint(stored).sources)).toEqual(['a']);
  });
});
