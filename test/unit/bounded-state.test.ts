import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/core/config.ts';
import { createDetector, type DetectorModel } from '../../src/detectors/detector.ts';
import { DEFAULT_INCIDENT_POLICY } from '../../src/incidents/policy.ts';
import type { DetectorSpec, StreamSpec } from '../../src/stream/catalog.ts';
import { compileValidator } from '../../src/stream/json-schema.ts';
import { backoffDelay, PartitionBackoff } from '../../src/stream/partition-backoff.ts';
import { emptyPartitionState, type PartitionState } from '../../src/stream/partition-state.ts';
import { processBatch } from '../../src/stream/process-batch.ts';
import { admitSeries, forgetSeries, seriesKeyTooLong } from '../../src/stream/series-bounds.ts';
import type { EventConsumer, IncomingMessage, TopicPartition } from '../../src/stream/transport.ts';

const T0 = Date.UTC(2025, 0, 1);

function detector(id: string, model: DetectorModel, field = 'latency_ms'): DetectorSpec {
  return {
    id,
    name: id,
    field,
    fieldPath: [field],
    version: 1,
    kind: model.kind,
    params: {},
    mode: 'ACTIVE',
    severity: 'WARNING',
    model,
    stateKey: `${id}@1`,
    incidentPolicy: DEFAULT_INCIDENT_POLICY,
  };
}

const ceiling = () => detector('det_MAX', createDetector('THRESHOLD', { max: 100 }, 'latency_ms'));

function stream(detectors: DetectorSpec[]): StreamSpec {
  return {
    id: 'str_1',
    name: 's',
    topic: 't',
    keyField: 'host',
    timestampField: null,
    keyPath: ['host'],
    timestampPath: null,
    status: 'ACTIVE',
    schemaVersion: 1,
    validate: compileValidator({ type: 'object', properties: { host: { type: 'string' }, latency_ms: { type: 'number' } } }),
    detectors,
  };
}

function partition(overrides: Partial<PartitionState> = {}): PartitionState {
  return { ...emptyPartitionState('t', 0), ...overrides };
}

const event = (offset: number, host: string, latency: number): IncomingMessage => ({
  offset: String(offset),
  key: host.slice(0, 10),
  value: Buffer.from(JSON.stringify({ host, latency_ms: latency })),
  timestamp: T0 + offset * 1000,
  headers: {},
});

const bounds = (maxKeyLength: number, maxSeriesPerDetector: number) => ({ maxKeyLength, maxSeriesPerDetector });

describe('the settings', () => {
  it('default to 256 characters and 100,000 series, and refuse what is not a positive integer, naming the variable', () => {
    expect(loadConfig({})).toMatchObject({ maxKeyLength: 256, maxSeriesPerDetector: 100_000 });
    expect(loadConfig({ VIGIL_MAX_KEY_LENGTH: '100000', VIGIL_MAX_SERIES_PER_DETECTOR: '5' })).toMatchObject({ maxKeyLength: 100_000, maxSeriesPerDetector: 5 });
    const problems = (() => {
      try {
        loadConfig({ VIGIL_MAX_KEY_LENGTH: '0', VIGIL_MAX_SERIES_PER_DETECTOR: '1.5' });
      } catch (error) {
        return error instanceof ConfigError ? error.problems : [];
      }
      return [];
    })();
    expect(problems).toEqual([
      'VIGIL_MAX_KEY_LENGTH must be an integer from 1 to 1000000, got "0"',
      'VIGIL_MAX_SERIES_PER_DETECTOR must be an integer from 1 to 100000000, got "1.5"',
    ]);
  });
});

describe('series keys longer than VIGIL_MAX_KEY_LENGTH', () => {
  it('names the length and the limit, counting characters rather than UTF-16 units', () => {
    expect(seriesKeyTooLong('x'.repeat(100_000), 256)).toBe('series key is 100000 characters; the limit is 256 (VIGIL_MAX_KEY_LENGTH)');
    expect(seriesKeyTooLong('x'.repeat(256), 256)).toBeNull();
    expect(seriesKeyTooLong('😀'.repeat(256), 256)).toBeNull(); // 512 UTF-16 units, 256 characters
    expect(seriesKeyTooLong('😀'.repeat(257), 256)).toMatch(/^series key is 257 characters/);
  });

  it('make the event a dead letter before detection: no series state, no anomaly', () => {
    const state = partition();
    const effects = processBatch(stream([ceiling()]), state, [event(0, 'k'.repeat(300), 5000), event(1, 'ok', 5000)], 1 << 20, bounds(256, 10));
    expect(effects.deadLetters.map((d) => [d.offset, d.reason])).toEqual([[0n, 'series key is 300 characters; the limit is 256 (VIGIL_MAX_KEY_LENGTH)']]);
    expect(effects.anomalies.map((a) => a.offset)).toEqual([1n]);
    expect(Object.keys(state.detectors.get('det_MAX@1')!.series)).toEqual(['ok']);
    expect(effects.nextOffset).toBe(2n);
  });
});

describe('the series cap (VIGIL_MAX_SERIES_PER_DETECTOR)', () => {
  it('does not track series past the cap, counts their events, and keeps scoring the tracked ones', () => {
    const state = partition();
    const hosts = ['a', 'b', 'c', 'd', 'e', 'f', 'f', 'a', 'g'];
    const effects = processBatch(stream([ceiling()]), state, hosts.map((h, i) => event(i, h, 5000)), 1 << 20, bounds(256, 5));
    expect(effects.anomalies.map((a) => a.seriesKey)).toEqual(['a', 'b', 'c', 'd', 'e', 'a']);
    expect(effects.untrackedEvents).toBe(3); // f, f, g
    expect(effects.validEvents).toBe(9);
    expect(Object.keys(state.detectors.get('det_MAX@1')!.series).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('tracks the same series after a restart: replayed events are not counted again', () => {
    const messages = ['a', 'b', 'c', 'x', 'a'].map((h, i) => event(i, h, 5000));
    const state = partition({ committedOffset: 3n });
    const effects = processBatch(stream([ceiling()]), state, messages, 1 << 20, bounds(256, 2));
    expect(effects.untrackedEvents).toBe(1); // x, at offset 3; c (offset 2) was counted before the restart
    expect(effects.anomalies.map((a) => [a.offset, a.seriesKey])).toEqual([[4n, 'a']]);
  });

  it('counts in O(1), keeps own properties only, and forgets series exactly', () => {
    const entry = { nextOffset: 0n, series: {} as Record<string, unknown> };
    const made = admitSeries(entry, '__proto__', 2, { newState: () => ({ n: 1 }) });
    expect(made).toEqual({ n: 1 });
    expect(Object.hasOwn(entry.series, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).n).toBeUndefined(); // Object.prototype untouched
    expect(admitSeries(entry, 'toString', 2, { newState: () => ({ n: 2 }) })).toEqual({ n: 2 });
    expect(admitSeries(entry, 'third', 2, { newState: () => ({}) })).toBeUndefined();
    forgetSeries(entry, 'toString');
    expect(admitSeries(entry, 'third', 2, { newState: () => ({ n: 3 }) })).toEqual({ n: 3 });
    expect(JSON.parse(JSON.stringify(entry.series))).toEqual({ ['__proto__']: { n: 1 }, third: { n: 3 } });
  });
});

describe('a detector that throws on one event', () => {
  const fragile = (): DetectorSpec => {
    const inner = createDetector('THRESHOLD', { max: 100 }, 'latency_ms');
    return detector('det_FRAGILE', {
      ...inner,
      observe: (state, value, time) => {
        if (value === 13) throw new Error('unlucky value');
        return inner.observe(state, value, time);
      },
    });
  };

  it('makes that event a dead letter naming the detector, drops what other detectors found in it, and goes on', () => {
    const state = partition();
    const messages = [event(0, 'a', 500), event(1, 'a', 13), event(2, 'a', 700)];
    const effects = processBatch(stream([ceiling(), fragile()]), state, messages, 1 << 20);
    expect(effects.deadLetters.map((d) => [d.offset, d.reason])).toEqual([
      [1n, 'detector "det_FRAGILE" (v1) failed on this event: unlucky value; its series starts afresh'],
    ]);
    expect(effects.anomalies.map((a) => [a.offset, a.detectorId])).toEqual([
      [0n, 'det_MAX'],
      [0n, 'det_FRAGILE'],
      [2n, 'det_MAX'],
      [2n, 'det_FRAGILE'],
    ]);
    expect(effects.validEvents).toBe(2);
    expect(effects.deadLetters[0]!.payload).toBe(JSON.stringify({ host: 'a', latency_ms: 13 }));
  });
});

describe('retrying a failed batch', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits 100 ms, doubling to at most 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffDelay(n))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('pauses only the failed partition and resumes it after the wait; success starts the wait over', () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const names = (list: TopicPartition[]) => list.map((p) => `${p.topic}/${p.partition}`).join(',');
    const consumer = {
      pause: (list: TopicPartition[]) => calls.push(`pause ${names(list)}`),
      resume: (list: TopicPartition[]) => calls.push(`resume ${names(list)}`),
    } as unknown as EventConsumer;
    const backoff = new PartitionBackoff(() => consumer);
    const poisoned = { topic: 'orders', partition: 2 };
    expect(backoff.failed(poisoned)).toBe(100);
    expect(calls).toEqual(['pause orders/2']);
    vi.advanceTimersByTime(99);
    expect(calls).toEqual(['pause orders/2']);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['pause orders/2', 'resume orders/2']);
    expect(backoff.failed(poisoned)).toBe(200);
    expect(backoff.failed({ topic: 'payments', partition: 0 })).toBe(100); // each partition has its own count
    vi.advanceTimersByTime(200);
    expect(backoff.waiting).toBe(0);
    backoff.succeeded(poisoned);
    expect(backoff.failed(poisoned)).toBe(100);
    backoff.stop();
    vi.advanceTimersByTime(10_000);
    expect(calls.filter((c) => c.startsWith('resume'))).toHaveLength(3); // the stopped one never resumes
  });
});
