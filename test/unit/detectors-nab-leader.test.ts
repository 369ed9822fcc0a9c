import { describe, expect, it } from 'vitest';
import { createDetector, type DetectorModel, type Verdict } from '../../src/detectors/detector.ts';
import { MAX_SCORE } from '../../src/detectors/format.ts';
import { LIKELIHOOD_SCALES, WEEK_SLOTS, type LikelihoodState } from '../../src/detectors/likelihood-state.ts';
import { ENSEMBLE_MEMBER_KINDS, normalizeDetectorParams } from '../../src/detectors/params.ts';
import { DetectorStateError } from '../../src/detectors/state-check.ts';
import { surprise } from '../../src/detectors/tail.ts';
import { BadUserInputError } from '../../src/core/errors.ts';
import { mulberry32 } from '../support/seeded-events.ts';

// Deterministic series: a seeded PRNG (mulberry32) and Box-Muller normals.

function noise(n: number, seed: number, mean = 100, sd = 5): number[] {
  const rand = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    out.push(mean + sd * r * Math.cos(2 * Math.PI * rand()));
  }
  return out;
}

const T0 = Date.UTC(2025, 0, 6);
const FIVE_MINUTES = 300_000;
const FIELD = 'latency_ms';

function model(params: Record<string, unknown> = {}): DetectorModel<LikelihoodState> {
  return createDetector('LIKELIHOOD', params, FIELD) as DetectorModel<LikelihoodState>;
}

function run(m: DetectorModel<LikelihoodState>, values: readonly number[], state = m.newState(), start = 0): Verdict[] {
  return values.map((v, i) => m.observe(state, v, T0 + (start + i) * FIVE_MINUTES));
}

function alarms(verdicts: readonly Verdict[]): number[] {
  return verdicts.flatMap((v, i) => (v.anomalous ? [i] : []));
}

describe('surprise (-log10 of the normal upper tail)', () => {
  it('matches known tail probabilities', () => {
    expect(surprise(0)).toBe(0);
    expect(surprise(1e-9)).toBeCloseTo(Math.log10(2), 5);
    expect(surprise(-3)).toBe(0);
    expect(surprise(Number.NaN)).toBe(0);
    // Q(1.96) = 0.025, Q(3) = 1.3499e-3, Q(5) = 2.8665e-7, Q(10) = 7.6199e-24
    expect(surprise(1.959964)).toBeCloseTo(-Math.log10(0.025), 4);
    expect(surprise(3)).toBeCloseTo(-Math.log10(1.3499e-3), 4);
    expect(surprise(5)).toBeCloseTo(-Math.log10(2.8665e-7), 4);
    expect(surprise(10)).toBeCloseTo(-Math.log10(7.6199e-24), 3);
    // Increasing and finite far out.
    expect(surprise(40)).toBeGreaterThan(surprise(39));
    expect(Number.isFinite(surprise(1e6))).toBe(true);
  });
});

describe('LIKELIHOOD detector', () => {
  it('is deterministic and its state survives a JSON round trip mid-stream', () => {
    const values = [...noise(1500, 7), 170, ...noise(500, 8)];
    const a = model();
    const straight = run(a, values).map((v) => [v.score, v.anomalous, v.expected]);

    const b = model();
    const state = b.newState();
    const first = run(b, values.slice(0, 900), state);
    const restored = b.restore(JSON.parse(JSON.stringify(state)));
    expect(restored).toEqual(state);
    const second = run(b, values.slice(900), restored, 900);
    expect([...first, ...second].map((v) => [v.score, v.anomalous, v.expected])).toEqual(straight);
    // Every verdict is finite and in range.
    for (const v of [...first, ...second]) {
      expect(Number.isFinite(v.score) && v.score >= 0 && v.score <= MAX_SCORE).toBe(true);
      expect(v.explanation).toContain(FIELD);
    }
  });

  it('keeps a fixed amount of state per series', () => {
    const m = model();
    const state = m.newState();
    const sizes: number[] = [];
    const values = noise(60_000, 9);
    values.forEach((v, i) => {
      m.observe(state, v, T0 + i * 3_600_000);
      if (i === 2_000 || i === 59_999) sizes.push(JSON.stringify(state).length);
    });
    expect(state.ring).toHaveLength(LIKELIHOOD_SCALES.length * 20);
    expect(state.week).toHaveLength(WEEK_SLOTS);
    expect(state.weekN).toHaveLength(WEEK_SLOTS);
    expect(state.mean).toHaveLength(LIKELIHOOD_SCALES.length);
    const [early = 0, late = 0] = sizes;
    expect(late).toBeLessThanOrEqual(early * 1.1 + 100);
  });

  it('detects a spike, once, and stays quiet after it', () => {
    const values = noise(3000, 11);
    values[2000] = 190;
    values[2001] = 185;
    const verdicts = run(model(), values);
    const hits = alarms(verdicts);
    expect(hits).toContain(2000);
    expect(verdicts[2000]?.explanation).toMatch(/outside the range seen so far|surprise/);
    // The quiet period: nothing in the next 100 events.
    expect(hits.filter((i) => i > 2000 && i <= 2100)).toEqual([]);
    expect(verdicts[2001]?.score).toBe(0);
    expect(verdicts[2001]?.explanation).toContain('quiet after an alert');
  });

  it('detects a level shift within a few events', () => {
    const values = [...noise(2000, 12), ...noise(1000, 13, 140)];
    const hits = alarms(run(model(), values));
    const first = hits.find((i) => i >= 2000);
    expect(first).toBeDefined();
    expect(first as number).toBeLessThan(2010);
  });

  it('detects a level shift inside the range seen so far, from the likelihood alone', () => {
    // Range 0..100 known in advance; the series has been at 60 before, so only the likelihood can catch the return to 60.
    const values = [...noise(500, 21, 60, 2), ...noise(2500, 14, 30, 2), ...noise(1000, 15, 60, 2)];
    const verdicts = run(model({ inputMin: 0, inputMax: 100 }), values);
    const first = alarms(verdicts).find((i) => i >= 3000);
    expect(first).toBeDefined();
    expect(first as number).toBeLessThan(3020);
    expect(verdicts[first as number]?.explanation).toMatch(/surprise/);
  });

  it('is mostly quiet on noise', () => {
    const values = noise(20_000, 16);
    const hits = alarms(run(model(), values));
    expect(hits.length).toBeLessThanOrEqual(20); // at most 1 in 1000 events
  });

  it('is silent during warm-up and ready after it', () => {
    const m = model({ warmup: 50 });
    const state = m.newState();
    const verdicts = run(m, [...noise(49, 17), 1000], state);
    expect(alarms(verdicts)).toEqual([]);
    expect(m.ready(state)).toBe(true);
  });

  it('ignores unusable values and never ticks', () => {
    const m = model();
    const state = m.newState();
    run(m, noise(400, 18), state);
    const before = JSON.stringify(state);
    const v = m.observe(state, Number.NaN, T0);
    expect(v.anomalous).toBe(false);
    expect(JSON.stringify(state)).toBe(before);
    expect(m.tick(state, T0 + 1e12)).toBeNull();
  });

  it('restore refuses foreign or corrupt states', () => {
    const m = model();
    const state = m.newState();
    run(m, noise(50, 19), state);
    expect(() => m.restore(null)).toThrow(DetectorStateError);
    expect(() => m.restore({ n: 3, mean: 1, variance: 0, weight: 0 })).toThrow(DetectorStateError);
    expect(() => m.restore({ ...state, ring: [1, 2, 3] })).toThrow(DetectorStateError);
    expect(() => m.restore({ ...state, head: 20 })).toThrow(DetectorStateError);
    expect(() => m.restore({ ...state, lo: 10, hi: 5 })).toThrow(DetectorStateError);
    expect(() => m.restore({ ...state, quiet: 101 })).toThrow(DetectorStateError);
    expect(m.restore(JSON.parse(JSON.stringify(state)))).toEqual(state);
  });
});

describe('LIKELIHOOD params', () => {
  it('fills defaults in stored order', () => {
    expect(normalizeDetectorParams('LIKELIHOOD', {})).toEqual({
      threshold: 4,
      warmup: 300,
      inputMin: null,
      inputMax: null,
      averaging: 20,
      memory: 2000,
      minSpread: 0.01,
      novelty: 0.016,
      quiet: 100,
      fastAlpha: 0.04,
      slowAlpha: 0.01,
      seasonAlpha: 0.25,
    });
    expect(Object.keys(normalizeDetectorParams('LIKELIHOOD', { inputMin: 0, inputMax: 10 }))[3]).toBe('inputMax');
  });

  it('refuses invalid settings, naming them', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ threshold: 0 }, 'input.params.threshold'],
      [{ warmup: 1 }, 'input.params.warmup'],
      [{ averaging: 0 }, 'input.params.averaging'],
      [{ averaging: 1001 }, 'input.params.averaging'],
      [{ memory: 5 }, 'input.params.memory'],
      [{ minSpread: 0 }, 'input.params.minSpread'],
      [{ novelty: -1 }, 'input.params.novelty'],
      [{ quiet: 1.5 }, 'input.params.quiet'],
      [{ fastAlpha: 2 }, 'input.params.fastAlpha'],
      [{ inputMin: 5, inputMax: 5 }, 'input.params.inputMax'],
      [{ inputMax: 'x' }, 'input.params.inputMax'],
      [{ window: 300 }, 'input.params'],
    ];
    for (const [params, field] of bad) {
      let error: unknown;
      try {
        normalizeDetectorParams('LIKELIHOOD', params);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(params)).toBeInstanceOf(BadUserInputError);
      expect((error as BadUserInputError).message, JSON.stringify(params)).toContain(field);
    }
    expect(() => createDetector('LIKELIHOOD', { quiet: -1 }, FIELD)).toThrow(BadUserInputError);
  });

  it('can be an ENSEMBLE member', () => {
    expect(ENSEMBLE_MEMBER_KINDS).toContain('LIKELIHOOD');
    const ensemble = createDetector('ENSEMBLE', { members: [{ kind: 'LIKELIHOOD' }, { kind: 'ZSCORE' }], threshold: 0.5 }, FIELD);
    const state = ensemble.newState();
    const values = noise(1000, 20);
    values[900] = 400;
    const verdicts = values.map((v, i) => ensemble.observe(state, v, T0 + i * FIVE_MINUTES));
    expect(verdicts[900]?.anomalous).toBe(true);
  });
});
