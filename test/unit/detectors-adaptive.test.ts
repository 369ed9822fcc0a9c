import { describe, expect, it } from 'vitest';
import { ADAPTIVE_FLOOR, ADAPTIVE_MIN_EVENTS } from '../../src/detectors/adapt.ts';
import { createDetector, type DetectorModel, type Verdict } from '../../src/detectors/detector.ts';
import { DETECTOR_PARAM_SPECS, normalizeDetectorParams } from '../../src/detectors/params.ts';
import { newQuantileState, quantileEstimate, updateQuantile } from '../../src/detectors/quantile.ts';
import { DetectorStateError } from '../../src/detectors/state-check.ts';
import type { DetectorKind } from '../../src/generated/prisma/enums.ts';
import { mulberry32, normals } from '../support/seeded-events.ts';
import { badInput } from '../support/bad-input.ts';
import { visible } from '../support/verdicts.ts';

// Deterministic series: a seeded PRNG (mulberry32) and Box-Muller normals, as in detectors.test.ts.


const PERIOD = 24;
const T0 = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;
const FIELD = 'latency_ms';
const STATISTICAL = ['ZSCORE', 'MAD', 'EWMA', 'SEASONAL'] as const;

/** N(100, 5); SEASONAL gets a daily cycle on top. */
function noise(kind: DetectorKind, n: number, seed: number): number[] {
  return normals(n, seed).map((z, t) => 100 + 5 * z + (kind === 'SEASONAL' ? 20 * Math.sin((2 * Math.PI * t) / PERIOD) : 0));
}

function make(kind: DetectorKind, extra: Record<string, unknown> = {}): DetectorModel {
  return createDetector(kind, { ...(kind === 'SEASONAL' ? { period: PERIOD } : {}), ...extra }, FIELD);
}

function run(model: DetectorModel, values: readonly number[], state = model.newState(), start = 0): Verdict[] {
  return values.map((v, i) => model.observe(state, v, T0 + (start + i) * MINUTE));
}



// ---------------------------------------------------------------------------

describe('targetAlertRate params', () => {
  it('stores threshold as null beside the rate, idempotently; absent, nothing changes', () => {
    const p = normalizeDetectorParams('ZSCORE', { targetAlertRate: 0.01 });
    expect(p).toEqual({ window: 300, threshold: null, warmup: 30, direction: 'BOTH', targetAlertRate: 0.01 });
    expect(Object.keys(p)).toEqual(['window', 'threshold', 'warmup', 'direction', 'targetAlertRate']);
    expect(normalizeDetectorParams('ZSCORE', structuredClone(p))).toEqual(p);
    expect(normalizeDetectorParams('EWMA', { targetAlertRate: 0.5, threshold: null })).toMatchObject({ threshold: null, targetAlertRate: 0.5 });
    expect(normalizeDetectorParams('MAD', {})).toEqual({ window: 300, threshold: 5, warmup: 30, direction: 'BOTH' });
    // With drift too, and inside an ensemble.
    expect(normalizeDetectorParams('SEASONAL', { targetAlertRate: 0.001, drift: 'REBASELINE' })).toMatchObject({
      threshold: null,
      targetAlertRate: 0.001,
      drift: 'REBASELINE',
    });
    const e = normalizeDetectorParams('ENSEMBLE', { members: [{ kind: 'MAD', params: { targetAlertRate: 0.02 } }] });
    expect((e.members as { params: Record<string, unknown> }[])[0]!.params).toMatchObject({ threshold: null, targetAlertRate: 0.02 });
  });

  it('refuses a rate beside an explicit threshold, naming the conflict on targetAlertRate', () => {
    const error = badInput(() => normalizeDetectorParams('ZSCORE', { threshold: 3, targetAlertRate: 0.01 }));
    expect(error).toMatchObject({ field: 'input.params.targetAlertRate', code: 'BAD_USER_INPUT' });
    expect(error.message).toMatch(/^input\.params\.targetAlertRate: cannot be combined with threshold \(3\)/);
    expect(error.message).toContain('not both');
    // Even the default value, given explicitly.
    expect(badInput(() => normalizeDetectorParams('MAD', { threshold: 5, targetAlertRate: 0.01 })).field).toBe('input.params.targetAlertRate');
    const nested = badInput(() =>
      normalizeDetectorParams('ENSEMBLE', { members: [{ kind: 'ZSCORE' }, { kind: 'EWMA', params: { threshold: 2, targetAlertRate: 0.1 } }] }),
    );
    expect(nested.field).toBe('input.params.members[1].params.targetAlertRate');
  });

  it.each([
    [{ targetAlertRate: 0 }, 'input.params.targetAlertRate'],
    [{ targetAlertRate: 0.6 }, 'input.params.targetAlertRate'],
    [{ targetAlertRate: -0.01 }, 'input.params.targetAlertRate'],
    [{ targetAlertRate: '1%' }, 'input.params.targetAlertRate'],
    [{ targetAlertRate: null }, 'input.params.targetAlertRate'],
    [{ threshold: null }, 'input.params.threshold'],
    [{ threshold: 0, targetAlertRate: 0.1 }, 'input.params.threshold'],
    [{ targetAlertRat: 0.1 }, 'input.params.targetAlertRat'],
  ])('refuses %j, naming %s', (params, field) => {
    const error = badInput(() => normalizeDetectorParams('EWMA', params));
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it('is described for docs on every statistical kind, and THRESHOLD refuses it', () => {
    for (const kind of STATISTICAL) expect(DETECTOR_PARAM_SPECS[kind].targetAlertRate?.description).toMatch(/quantile/);
    expect(badInput(() => normalizeDetectorParams('THRESHOLD', { max: 1, targetAlertRate: 0.1 })).field).toBe('input.params.targetAlertRate');
  });
});

describe('P-squared quantile estimator', () => {
  it('tracks quantiles of a long stream to within a small error, in eleven numbers', () => {
    const values = normals(100_000, 3);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [0.5, 0.9, 0.99, 0.999]) {
      const s = newQuantileState();
      for (const x of values) updateQuantile(s, p, x);
      const exact = sorted[Math.floor(p * sorted.length)]!;
      expect(Math.abs(quantileEstimate(s, p)! - exact), `p ${p}`).toBeLessThan(p === 0.999 ? 0.1 : 0.03);
      expect(s.qHeights.length + s.qPositions.length + 1).toBe(11);
      expect(s.qHeights).toEqual([...s.qHeights].sort((a, b) => a - b));
    }
  });

  it('answers with the values seen while there are fewer than five', () => {
    const s = newQuantileState();
    expect(quantileEstimate(s, 0.9)).toBeNull();
    for (const x of [3, 1, 2]) updateQuantile(s, 0.9, x);
    expect(s.qHeights).toEqual([1, 2, 3]);
    expect(quantileEstimate(s, 0.9)).toBe(3);
    expect(quantileEstimate(s, 0.5)).toBe(2);
  });
});

describe('adaptive thresholds', () => {
  const RATES = [0.01, 0.002];

  describe.each(STATISTICAL)('%s', (kind) => {
    it.each(RATES)('on 50k points of noise, the realised alert rate is within a factor of 2 of %s (after warm-up)', (rate) => {
      for (const direction of ['BOTH', 'UP'] as const) {
        const verdicts = run(make(kind, { targetAlertRate: rate, direction }), noise(kind, 50_000, 7));
        const start = Math.ceil(ADAPTIVE_MIN_EVENTS / rate) + 100;
        const after = verdicts.slice(start);
        const realised = after.filter((v) => v.anomalous).length / after.length;
        expect(realised, `${direction}: ${realised}`).toBeGreaterThan(rate / 2);
        expect(realised, `${direction}: ${realised}`).toBeLessThan(rate * 2);
      }
    });

    it('still flags a spike, draws the band at the learned threshold and says where it came from', () => {
      const values = noise(kind, 3000, 8);
      values[2500] = values[2500]! + 60; // 12 sigma
      const verdicts = run(make(kind, { targetAlertRate: 0.01 }), values);
      const spike = verdicts[2500]!;
      expect(spike.anomalous).toBe(true);
      expect(spike.explanation).toContain('learnt for a 1% alert rate');
      // The learned threshold for 1% two-sided on normal noise is about 2.6 sigmas (2.4 to 3.2 allowing for the estimator and the kind's scale).
      const v = verdicts[2400]!;
      const threshold = Number(/threshold ([\d.]+), learnt/.exec(v.explanation)![1]);
      expect(threshold).toBeGreaterThan(2.3);
      expect(threshold).toBeLessThan(3.3);
      // The band is the one a fixed detector with that threshold draws.
      const fixed = run(make(kind, { threshold }), values)[2400]!;
      expect(v.expected).toBe(fixed.expected);
      expect(v.upper!).toBeCloseTo(fixed.upper!, 1);
      expect(v.lower!).toBeCloseTo(fixed.lower!, 1);
      expect(v.upper! - v.expected!).toBeCloseTo(v.expected! - v.lower!, 6);
    });

    it('uses the kind\'s default threshold until it has seen 10/rate scores', () => {
      const rate = 0.01;
      const verdicts = run(make(kind, { targetAlertRate: rate }), noise(kind, 1400, 9));
      const def = DETECTOR_PARAM_SPECS[kind].threshold!.default as number;
      const early = verdicts[600]!;
      expect(early.explanation).toContain(`threshold ${def}, the default until the 1% alert-rate threshold is learnt, after 1000 scores`);
      const late = verdicts[1399]!;
      expect(late.explanation).toContain('learnt for a 1% alert rate');
      // Band at the default threshold early on: (upper - expected) / (lower distance) is the same 4-sigma (MAD 5) band the fixed detector draws.
      const fixed = run(make(kind), noise(kind, 1400, 9))[600]!;
      expect(early.upper).toBeCloseTo(fixed.upper!, 9);
      expect(early.lower).toBeCloseTo(fixed.lower!, 9);
      expect(early.anomalous).toBe(fixed.anomalous);
    });
  });

  it('a constant series does not alarm on rounding noise (the floor), and its first real change alarms', () => {
    for (const kind of ['ZSCORE', 'MAD', 'EWMA'] as const) {
      const values = Array.from({ length: 3000 }, (_, i) => 42 + (i % 7 === 0 ? 1e-12 : 0));
      const verdicts = run(make(kind, { targetAlertRate: 0.05 }), [...values, 43]);
      expect(verdicts.slice(0, 3000).some((v) => v.anomalous), kind).toBe(false);
      expect(verdicts[2999]!.explanation, kind).toContain(`threshold ${ADAPTIVE_FLOOR}, the floor`);
      expect(verdicts[3000]!.anomalous, kind).toBe(true);
    }
  });

  it('a spike cannot raise the bar it is judged by (the quantile learns after judging)', () => {
    const model = make('ZSCORE', { targetAlertRate: 0.5, warmup: 1 });
    const state = model.newState();
    run(model, normals(200, 10).map((z) => 100 + z), state);
    const v = model.observe(state, 1e6, T0);
    expect(v.anomalous).toBe(true);
  });

  it('works with drift: the learned threshold survives a re-baseline', () => {
    const values = normals(8000, 11).map((z, i) => 100 + 5 * z + (i >= 5000 ? 40 : 0));
    const verdicts = run(make('ZSCORE', { targetAlertRate: 0.005, drift: 'REBASELINE' }), values);
    const detected = verdicts.findIndex((v) => v.drift === 'DETECTED');
    const cleared = verdicts.findIndex((v) => v.drift === 'CLEARED');
    expect(detected).toBeGreaterThanOrEqual(5000);
    expect(cleared).toBe(detected + 29);
    expect(verdicts[cleared + 1]!.explanation).toContain('learnt for a 0.5% alert rate');
    const after = verdicts.slice(cleared + 1);
    const realised = after.filter((v) => v.anomalous).length / after.length;
    expect(realised).toBeLessThan(0.01);
  });

  it('an ENSEMBLE member may use a target rate', () => {
    const members = [{ kind: 'ZSCORE', params: { targetAlertRate: 0.01 } }, { kind: 'EWMA' }];
    const model = createDetector('ENSEMBLE', { members, combine: 'VOTE', threshold: 0.5 }, FIELD);
    const values = noise('ZSCORE', 5000, 12);
    values[4000] = 200;
    const verdicts = run(model, values);
    expect(verdicts[4000]!.anomalous).toBe(true);
    expect(verdicts[4000]!.explanation).toContain('learnt for a 1% alert rate');
  });

  it('is deterministic, survives a JSON round trip mid-series, and keeps memory bounded', () => {
    for (const kind of STATISTICAL) {
      const params = { targetAlertRate: 0.01, drift: 'REBASELINE' };
      const values = noise(kind, 6000, 13).map((x, i) => x + (i >= 4000 ? 60 : 0));
      const reference = run(make(kind, params), values).map(visible);
      for (const cut of [3, 700, 2500, 4010]) {
        const model = make(kind, params);
        const state = model.newState();
        run(model, values.slice(0, cut), state);
        const other = make(kind, params);
        const restored = other.restore(JSON.parse(JSON.stringify(state)));
        expect(restored).toEqual(state);
        expect(run(other, values.slice(cut), restored, cut).map(visible), `${kind} cut ${cut}`).toEqual(reference.slice(cut));
      }
      const model = make(kind, { targetAlertRate: 0.001 });
      const state = model.newState();
      let atWindow = 0;
      noise(kind, 100_000, 14).forEach((v, i) => {
        model.observe(state, v, T0 + i * 1000);
        if (i === 599) atWindow = JSON.stringify(state).length;
      });
      expect(JSON.stringify(state).length, kind).toBeLessThanOrEqual(atWindow * 1.1 + 100);
    }
  });

  it('restore refuses a broken estimator, and starts one afresh for a state saved without it', () => {
    const model = make('EWMA', { targetAlertRate: 0.01 });
    const s = model.newState() as Record<string, unknown>;
    run(model, noise('EWMA', 100, 15), s);
    expect(() => model.restore({ ...s, qHeights: [3, 2, 1, 4, 5] })).toThrow(DetectorStateError);
    expect(() => model.restore({ ...s, qPositions: [1, 2, 2, 4, 99] })).toThrow(/qPositions/);
    expect(() => model.restore({ ...s, qCount: 4 })).toThrow(/qCount/);
    const plain = make('EWMA');
    const p = plain.newState();
    run(plain, noise('EWMA', 100, 15), p);
    expect(model.restore(JSON.parse(JSON.stringify(p)))).toMatchObject({ qCount: 0, qHeights: [], qPositions: [] });
  });
});
