import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.ts';
import { buildSelfSample, canaryOverdueSeconds, consumesSelfStream, selfDetectorSpecs } from '../../src/workflows/self-monitor.ts';

const NOW = Date.parse('2025-06-01T12:00:00.000Z');
const health = (over: Partial<{ ingestionLag: number; errorRate: number; eventsPerSecond: number }> = {}) => ({
  stream: { id: 'Stream_1', name: 'orders' },
  ingestionLag: 0,
  errorRate: 0,
  eventsPerSecond: 0,
  ...over,
});

describe('self-monitoring samples', () => {
  it('carry the stream, its pipeline metrics and the sample time', () => {
    expect(buildSelfSample(health({ ingestionLag: 250, errorRate: 0.125, eventsPerSecond: 12.34567 }), {}, NOW)).toEqual({
      stream: 'Stream_1',
      streamName: 'orders',
      ingestionLag: 250,
      errorRate: 0.125,
      eventsPerSecond: 12.346,
      canaryOverdueSeconds: 0,
      at: '2025-06-01T12:00:00.000Z',
    });
  });

  it('say a canary is overdue only while the latest one sent has not arrived', () => {
    // No canary hash at all (HGETALL of a missing key is {}), or none sent yet.
    expect(canaryOverdueSeconds({}, NOW)).toBe(0);
    expect(canaryOverdueSeconds(null, NOW)).toBe(0);
    // Arrived: not overdue, however old.
    expect(canaryOverdueSeconds({ sentAt: String(NOW - 600_000), arrivedAt: String(NOW - 590_000), latencyMs: '10000' }, NOW)).toBe(0);
    // Sent 42.5 s ago, the previous one arrived: overdue by 42.5 s.
    expect(canaryOverdueSeconds({ sentAt: String(NOW - 42_500), arrivedAt: String(NOW - 100_000) }, NOW)).toBe(42.5);
    // Sent, never arrived.
    expect(canaryOverdueSeconds({ sentAt: String(NOW - 1000) }, NOW)).toBe(1);
    // Garbage is no canary.
    expect(canaryOverdueSeconds({ sentAt: 'soon' }, NOW)).toBe(0);
    expect(buildSelfSample(health(), { sentAt: String(NOW - 200_000), arrivedAt: '0' }, NOW).canaryOverdueSeconds).toBe(200);
  });

  it('never carry NaN or infinities (they would fail the contract)', () => {
    const sample = buildSelfSample(health({ ingestionLag: Number.NaN, errorRate: Number.POSITIVE_INFINITY }), undefined, NOW);
    expect(sample.ingestionLag).toBe(0);
    expect(sample.errorRate).toBe(0);
  });
});

describe('self-monitoring configuration', () => {
  it('has defaults, and detectors built from them', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ selfMonitorMs: 10_000, selfLagMax: 10_000, selfErrorRateMax: 0.05, selfCanaryMaxSeconds: 180, selfQuietSeconds: 120 });
    expect(config.selfMonitorStreams).toBeUndefined();
    // Lag is measured against the workers' own group unless told otherwise.
    expect(config.selfMonitorGroup).toBe('vigil');
    expect(loadConfig({ VIGIL_CONSUMER_GROUP: 'g' }).selfMonitorGroup).toBe('g');
    expect(loadConfig({ VIGIL_CONSUMER_GROUP: 'g', VIGIL_SELF_MONITOR_GROUP: 'other' }).selfMonitorGroup).toBe('other');
    expect(selfDetectorSpecs(config)).toEqual([
      { name: 'lag', field: 'ingestionLag', max: 10_000, severity: 'WARNING' },
      { name: 'errors', field: 'errorRate', max: 0.05, severity: 'CRITICAL' },
      { name: 'canary', field: 'canaryOverdueSeconds', max: 180, severity: 'WARNING' },
    ]);
  });

  it('reads the environment and refuses bad values', () => {
    const config = loadConfig({
      VIGIL_SELF_MONITOR_MS: '500',
      VIGIL_SELF_LAG_MAX: '50',
      VIGIL_SELF_ERROR_RATE_MAX: '0.2',
      VIGIL_CANARY_TIMEOUT_SECONDS: '30',
      VIGIL_SELF_QUIET_SECONDS: '3',
      VIGIL_SELF_MONITOR_STREAMS: 'orders, pay*',
    });
    expect(config).toMatchObject({ selfMonitorMs: 500, selfLagMax: 50, selfErrorRateMax: 0.2, selfCanaryMaxSeconds: 30, selfQuietSeconds: 3 });
    expect(config.selfMonitorStreams).toEqual(['orders', 'pay*']);
    expect(loadConfig({ VIGIL_SELF_MONITOR_MS: '0' }).selfMonitorMs).toBe(0);
    expect(() => loadConfig({ VIGIL_SELF_MONITOR_MS: '5' })).toThrow(/VIGIL_SELF_MONITOR_MS/);
    expect(() => loadConfig({ VIGIL_SELF_ERROR_RATE_MAX: '2' })).toThrow(/VIGIL_SELF_ERROR_RATE_MAX/);
  });

  it('samples on exactly the workers that consume the self stream', () => {
    expect(consumesSelfStream(undefined)).toBe(true);
    expect(consumesSelfStream(['vigil.self'])).toBe(true);
    expect(consumesSelfStream(['vigil.*', 'orders'])).toBe(true);
    expect(consumesSelfStream(['orders'])).toBe(false);
    expect(consumesSelfStream(['vigilxself'])).toBe(false);
  });
});
