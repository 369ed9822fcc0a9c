import { describe, expect, it } from 'vitest';
import { windowBuckets } from '../../src/stream/stream-stats.ts';
import { boundsOf, breachScore, describeWindow, judge, metricOf, type SlaMeasurements } from '../../src/workflows/sla-judge.ts';

const now = new Date('2026-12-01T10:00:00Z');
const at = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1000);
const base: SlaMeasurements = { now, stream: 'orders', sla: 'orders fresh', windowSeconds: 300 };

describe('judge: FRESHNESS', () => {
  it('is met while the newest event is at most threshold seconds old', () => {
    expect(judge('FRESHNESS', 60, { ...base, lastEventAt: at(3) })).toEqual({
      met: true,
      current: 3,
      explanation: "last event on stream orders 3 s ago (SLA 'orders fresh': at most 60 s without an event)",
    });
    expect(judge('FRESHNESS', 60, { ...base, lastEventAt: at(60) }).met).toBe(true);
  });

  it('is breached when the stream has been silent for longer, saying for how long', () => {
    expect(judge('FRESHNESS', 60, { ...base, lastEventAt: at(95) })).toEqual({
      met: false,
      current: 95,
      explanation: "no event on stream orders for 95 s (SLA 'orders fresh': at most 60 s without an event)",
    });
  });

  it('counts from registration when no event was ever seen', () => {
    expect(judge('FRESHNESS', 60, { ...base, lastEventAt: null, slaCreatedAt: at(30) })).toMatchObject({ met: true, current: 30 });
    expect(judge('FRESHNESS', 60, { ...base, lastEventAt: null, slaCreatedAt: at(120) })).toEqual({
      met: false,
      current: 120,
      explanation: "no event on stream orders since the SLA was registered 120 s ago (SLA 'orders fresh': at most 60 s without an event)",
    });
  });

  it('takes an event stamped in the future (clock skew) as fresh, not as negative silence', () => {
    expect(judge('FRESHNESS', 1, { ...base, lastEventAt: at(-5) })).toMatchObject({ met: true, current: 0 });
  });
});

describe('judge: INGESTION_LAG', () => {
  it('is breached above the threshold', () => {
    expect(judge('INGESTION_LAG', 1000, { ...base, sla: 'lag', ingestionLag: 1000 })).toMatchObject({ met: true, current: 1000 });
    expect(judge('INGESTION_LAG', 1000, { ...base, sla: 'lag', ingestionLag: 1234 })).toEqual({
      met: false,
      current: 1234,
      explanation: "stream orders is 1234 messages behind (SLA 'lag': at most 1000 messages behind)",
    });
  });

  it('gives message counts in full', () => {
    expect(judge('INGESTION_LAG', 100_000, { ...base, sla: 'lag', ingestionLag: 123_456 }).explanation).toBe(
      "stream orders is 123456 messages behind (SLA 'lag': at most 100000 messages behind)",
    );
  });

  it('is met with no lag', () => {
    expect(judge('INGESTION_LAG', 0, { ...base, ingestionLag: 0 })).toMatchObject({ met: true, current: 0 });
  });
});

describe('judge: rates over the window', () => {
  it('ERROR_RATE is dead letters over events, breached above the threshold', () => {
    expect(judge('ERROR_RATE', 0.05, { ...base, sla: 'errors', events: 200, deadLetters: 25 })).toEqual({
      met: false,
      current: 0.125,
      explanation: "12.5% of events on stream orders were dead letters over the last 5 min (25 of 200) (SLA 'errors': at most 5% dead letters)",
    });
    expect(judge('ERROR_RATE', 0.05, { ...base, events: 200, deadLetters: 10 })).toMatchObject({ met: true, current: 0.05 });
  });

  it('COMPLETENESS is valid events over events, breached BELOW the threshold', () => {
    expect(judge('COMPLETENESS', 0.99, { ...base, sla: 'complete', events: 200, deadLetters: 25 })).toEqual({
      met: false,
      current: 0.875,
      explanation: "87.5% of events on stream orders were valid over the last 5 min (175 of 200) (SLA 'complete': at least 99% valid)",
    });
    expect(judge('COMPLETENESS', 0.9, { ...base, events: 10, deadLetters: 1 })).toMatchObject({ met: true, current: 0.9 });
    expect(judge('COMPLETENESS', 1, { ...base, events: 10, deadLetters: 0 })).toMatchObject({ met: true, current: 1 });
  });

  it('ANOMALY_RATE is anomalous events over events, breached above the threshold', () => {
    expect(judge('ANOMALY_RATE', 0.01, { ...base, sla: 'quiet', windowSeconds: 3600, events: 200, anomalousEvents: 6 })).toEqual({
      met: false,
      current: 0.03,
      explanation: "3% of events on stream orders were anomalous over the last 1 h (6 of 200) (SLA 'quiet': at most 1% anomalous)",
    });
  });

  it.each(['ERROR_RATE', 'COMPLETENESS', 'ANOMALY_RATE'] as const)('%s with no event in the window is met, with nothing measured', (objective) => {
    const judged = judge(objective, objective === 'COMPLETENESS' ? 0.99 : 0.01, { ...base, events: 0, deadLetters: 0, anomalousEvents: 0 });
    expect(judged).toMatchObject({ met: true, current: null });
    expect(judged.explanation).toMatch(/^no event on stream orders over the last 5 min: nothing to judge/);
  });

  it('never reports a share above 1 when counts from different sources overlap the window edge', () => {
    expect(judge('ERROR_RATE', 0.5, { ...base, events: 3, deadLetters: 5 }).current).toBe(1);
    expect(judge('COMPLETENESS', 0.5, { ...base, events: 3, deadLetters: 5 }).current).toBe(0);
    expect(judge('ANOMALY_RATE', 0.5, { ...base, events: 3, anomalousEvents: 5 }).current).toBe(1);
  });
});

describe('breach anomaly fields', () => {
  it('put the threshold on the side of the promise', () => {
    expect(boundsOf('FRESHNESS', 60)).toEqual({ lower: null, upper: 60 });
    expect(boundsOf('COMPLETENESS', 0.99)).toEqual({ lower: 0.99, upper: null });
  });

  it('score a breach above 1, further past the bound scoring higher', () => {
    expect(breachScore(60, 95)).toBeCloseTo(1 + 35 / 60);
    expect(breachScore(0.99, 0.875)).toBeCloseTo(1.115);
    expect(breachScore(0, 3)).toBe(4);
    expect(breachScore(60, 600)).toBeGreaterThan(breachScore(60, 95));
  });

  it('name what was measured', () => {
    expect(metricOf('FRESHNESS')).toBe('freshnessSeconds');
    expect(metricOf('COMPLETENESS')).toBe('completeness');
  });

  it('describe windows in the largest whole unit', () => {
    expect([describeWindow(90), describeWindow(300), describeWindow(7200), describeWindow(2 * 86_400)]).toEqual(['90 s', '5 min', '2 h', '2 d']);
  });
});

describe('windowBuckets', () => {
  const t = Date.parse('2026-12-01T10:00:25Z');

  it('uses 10-second buckets up to a minute, the current partial one included', () => {
    const w = windowBuckets(30, t);
    expect(w.series.bucketMs).toBe(10_000);
    expect(w.last - w.first + 1).toBe(3);
    expect(w.since.toISOString()).toBe('2026-12-01T10:00:00.000Z');
  });

  it('uses minute buckets up to a day and hour buckets beyond', () => {
    expect(windowBuckets(300, t).series.bucketMs).toBe(60_000);
    expect(windowBuckets(300, t).since.toISOString()).toBe('2026-12-01T09:56:00.000Z');
    expect(windowBuckets(86_400, t).series.bucketMs).toBe(60_000);
    const week = windowBuckets(7 * 86_400, t);
    expect(week.series.bucketMs).toBe(3_600_000);
    expect(week.last - week.first + 1).toBe(7 * 24);
  });

  it('covers the window to within one bucket', () => {
    for (const seconds of [1, 10, 59, 60, 61, 3600, 86_399, 30 * 86_400]) {
      const w = windowBuckets(seconds, t);
      const covered = (t - w.since.getTime()) / 1000;
      expect(Math.abs(covered - seconds), `${seconds} s`).toBeLessThan(w.series.bucketMs / 1000);
    }
  });

  it('cuts a window longer than any series keeps to the longest', () => {
    const w = windowBuckets(40 * 86_400, t);
    expect(w.last - w.first + 1).toBe(31 * 24);
  });
});
