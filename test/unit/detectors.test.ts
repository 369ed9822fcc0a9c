import { describe, expect, it } from 'vitest';
import { createDetector, type DetectorModel, type Verdict } from '../../src/detectors/detector.ts';
import { fmt, MAX_SCORE } from '../../src/detectors/format.ts';
import { sortedInsert, sortedMad, sortedMedian, sortedRemove } from '../../src/detectors/sorted.ts';
import { DetectorStateError } from '../../src/detectors/state-check.ts';
import type { DetectorKind } from '../../src/generated/prisma/enums.ts';
import { BadUserInputError } from '../../src/core/errors.ts';
import { mulberry32, normals } from '../support/seeded-events.ts';

// ---------------------------------------------------------------------------
// Deterministic series: a seeded PRNG (mulberry32) and Box-Muller normals.



const PERIOD = 24;
const series = {
  /** N(100, 5). */
  noise: (n: number, seed = 1) => normals(n, seed).map((z) => 100 + 5 * z),
  constant: (n: number) => Array.from({ length: n }, () => 42),
  /** N(100, 5), +40 (8 sigma) from index `at` on. */
  step: (n: number, at: number, seed = 2) => normals(n, seed).map((z, i) => 100 + 5 * z + (i >= at ? 40 : 0)),
  /** N(100, 5) with one value 60 (12 sigma) above the mean at `at`. */
  spike: (n: number, at: number, seed = 3) => normals(n, seed).map((z, i) => (i === at ? 160 : 100 + 5 * z)),
  /** 100 + 20 sin(2 pi t / 24) + N(0, 1). */
  seasonal: (n: number, seed = 4) => normals(n, seed).map((z, t) => 100 + 20 * Math.sin((2 * Math.PI * t) / PERIOD) + z),
  /** 100 + 0.01 t + N(0, 1): a slow drift. */
  drift: (n: number, seed = 5) => normals(n, seed).map((z, t) => 100 + 0.01 * t + z),
};

const T0 = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;

function run(model: DetectorModel, values: readonly number[], state = model.newState(), start = 0): Verdict[] {
  return values.map((v, i) => model.observe(state, v, T0 + (start + i) * MINUTE));
}

function alarms(verdicts: readonly Verdict[]): number[] {
  return verdicts.flatMap((v, i) => (v.anomalous ? [i] : []));
}

const FIELD = 'latency_ms';

/** One configuration per kind, as stored (defaults filled by the factory). */
const CONFIGS: Record<DetectorKind, Record<string, unknown>> = {
  ZSCORE: {},
  MAD: {},
  EWMA: {},
  SEASONAL: { period: PERIOD },
  THRESHOLD: { min: 80, max: 130 },
  FRESHNESS: { maxGapSeconds: 90 },
  LIKELIHOOD: { warmup: 30 },
  ENSEMBLE: {
    members: [{ kind: 'ZSCORE' }, { kind: 'MAD', weight: 2 }, { kind: 'EWMA' }, { kind: 'THRESHOLD', params: { max: 150 } }],
  },
};
const ALL_KINDS = Object.keys(CONFIGS) as DetectorKind[];
const STATISTICAL = ['ZSCORE', 'MAD', 'EWMA', 'SEASONAL'] as const;

function make(kind: DetectorKind, extra: Record<string, unknown> = {}): DetectorModel {
  return createDetector(kind, { ...CONFIGS[kind], ...extra }, FIELD);
}

// ---------------------------------------------------------------------------

describe('statistical detectors on known series', () => {
  describe.each(STATISTICAL)('%s', (kind) => {
    it('flags a 12-sigma spike after warm-up, and the next plain value is not flagged', () => {
      const values = series.spike(800, 500);
      const verdicts = run(make(kind), values);
      const spike = verdicts[500]!;
      expect(spike.anomalous).toBe(true);
      expect(spike.score).toBeGreaterThan(kind === 'MAD' ? 5 : 4);
      expect(spike.upper).not.toBeNull();
      expect(160).toBeGreaterThan(spike.upper!);
      expect(verdicts[501]!.anomalous).toBe(false);
      expect(alarms(verdicts).filter((i) => i !== 500).length).toBeLessThanOrEqual(2);
    });

    it('rarely alarms on 2000 points of plain noise', () => {
      const verdicts = run(make(kind), series.noise(2000, 11));
      expect(alarms(verdicts).length).toBeLessThanOrEqual(4);
    });

    it('flags an 8-sigma step at the step', () => {
      const verdicts = run(make(kind), series.step(900, 600));
      expect(verdicts[600]!.anomalous).toBe(true);
      expect(alarms(verdicts).filter((i) => i < 600).length).toBeLessThanOrEqual(2);
    });

    it('stays quiet on a constant series and flags the first change', () => {
      const values = [...series.constant(400), 43];
      const verdicts = run(make(kind), values);
      expect(alarms(verdicts)).toEqual([400]);
      expect(verdicts.slice(0, 400).every((v) => v.score === 0)).toBe(true);
      expect(verdicts[400]!.score).toBeGreaterThan(1000);
      expect(verdicts[400]!.expected).toBeCloseTo(42, 9);
    });

    it('rarely alarms on a slow drift', () => {
      const verdicts = run(make(kind), series.drift(3000));
      expect(alarms(verdicts).length).toBeLessThanOrEqual(5);
    });

    it('never alerts during warm-up, and alerts right after it', () => {
      // Constant baseline: any change scores huge, so only warm-up can hold an alarm back.
      const warmup = kind === 'SEASONAL' ? 40 : 30;
      const model = make(kind, { warmup });
      const state = model.newState();
      const early: Verdict[] = [];
      for (let i = 0; i < warmup; i++) {
        expect(model.ready(state)).toBe(false);
        early.push(model.observe(state, i % 5 === 4 ? 1000 : 42, T0 + i * MINUTE));
      }
      expect(early.some((v) => v.anomalous)).toBe(false);
      expect(early.at(-1)!.explanation).toMatch(/warming up|learning the first season/);
      expect(model.ready(state)).toBe(true);
      // A spike right after warm-up is flagged.
      const after = run(model, [42, 42, 42, 42, 5000], state, warmup);
      expect(after[4]!.anomalous).toBe(true);
    });

    it('explains with the field name, the value and the baseline', () => {
      const values = series.spike(800, 500);
      const verdicts = run(make(kind), values);
      const v = verdicts[500]!;
      expect(v.explanation).toContain(FIELD);
      expect(v.explanation).toContain(fmt(160));
      expect(v.explanation).toContain(fmt(v.expected!));
      expect(v.explanation).toContain(fmt(v.score, 2));
      expect(v.explanation).toContain('above');
      expect(v.explanation).toMatch(/threshold \d/);
    });

    it('direction UP ignores falls, DOWN ignores rises', () => {
      const values = series.noise(400, 7);
      const down = [...values, 40];
      const up = [...values, 160];
      const upModel = make(kind, { direction: 'UP' });
      const downModel = make(kind, { direction: 'DOWN' });
      const upOnFall = run(upModel, down).at(-1)!;
      const upOnRise = run(upModel, up).at(-1)!;
      const downOnFall = run(downModel, down).at(-1)!;
      const downOnRise = run(downModel, up).at(-1)!;
      expect(upOnFall).toMatchObject({ anomalous: false, score: 0, lower: null });
      expect(upOnFall.explanation).toContain('only rises count');
      expect(upOnRise.anomalous).toBe(true);
      expect(downOnRise).toMatchObject({ anomalous: false, score: 0, upper: null });
      expect(downOnFall.anomalous).toBe(true);
      expect(downOnFall.lower).not.toBeNull();
    });
  });

  it('SEASONAL flags a spike at a seasonal trough that ZSCORE with a long window misses', () => {
    const values = series.seasonal(PERIOD * 40);
    const at = PERIOD * 30 + 18; // sin = -1: the trough, about 80
    values[at] = values[at]! + 12; // 12 noise sigmas, but still inside the overall swing
    const seasonal = run(make('SEASONAL'), values);
    const zscore = run(make('ZSCORE', { window: 500 }), values);
    expect(seasonal[at]!.anomalous).toBe(true);
    expect(seasonal[at]!.expected!).toBeCloseTo(80, 0);
    expect(zscore[at]!.anomalous).toBe(false);
    expect(zscore[at]!.score).toBeLessThan(2);
    // And the seasonal pattern itself is not an anomaly to SEASONAL.
    expect(alarms(seasonal).filter((i) => i !== at).length).toBeLessThanOrEqual(3);
  });

  it('scores each value against the baseline before the value joins it (an outlier cannot mask itself)', () => {
    const z = run(make('ZSCORE', { window: 5, warmup: 1 }), [1, 2, 3, 4, 5, 1000]).at(-1)!;
    expect(z.expected).toBe(3);
    expect(z.score).toBeCloseTo(997 / Math.sqrt(2.5), 9);
    const m = run(make('MAD', { window: 5, warmup: 1 }), [1, 2, 3, 4, 5, 1000]).at(-1)!;
    expect(m.expected).toBe(3);
    expect(m.score).toBeCloseTo(997 / 1.4826, 9);
    const e = run(make('EWMA', { alpha: 0.5, warmup: 1 }), [10, 10, 10, 20]).at(-1)!;
    expect(e.expected).toBe(10);
    expect(e.anomalous).toBe(true);
    // SEASONAL: after one season of [0, 10, 0, 10], the forecast for slot 1 is 10, not the outlier.
    const s = run(make('SEASONAL', { period: 4, warmup: 4 }), [0, 10, 0, 10, 0, 500]).at(-1)!;
    expect(s.expected).toBeCloseTo(10, 9);
  });

  it('ZSCORE keeps precision on a large offset over 100k values (sums are re-centred)', () => {
    const model = make('ZSCORE', { window: 50 });
    const state = model.newState();
    const z = normals(100_000, 9);
    const values = z.map((x, i) => 1e9 + 0.001 * i + x);
    let verdict: Verdict | undefined;
    for (let i = 0; i < values.length; i++) verdict = model.observe(state, values[i]!, T0 + i);
    const last = values.slice(-51, -1);
    const mean = last.reduce((a, b) => a + b, 0) / 50;
    expect(Math.abs(verdict!.expected! - mean)).toBeLessThan(1e-6);
    const sd = Math.sqrt(last.reduce((a, b) => a + (b - mean) ** 2, 0) / 49);
    const expectedScore = Math.abs(values.at(-1)! - mean) / sd;
    expect(verdict!.score).toBeCloseTo(expectedScore, 6);
  });

  it('MAD is robust: a run of outliers in the window barely moves its baseline', () => {
    const values = series.noise(600, 13);
    for (let i = 400; i < 440; i++) values[i] = 1000; // 40 of 300 window values are wild
    const verdicts = run(make('MAD'), values);
    expect(verdicts[450]!.expected!).toBeGreaterThan(95);
    expect(verdicts[450]!.expected!).toBeLessThan(105);
    expect(verdicts[400]!.anomalous).toBe(true);
  });

  it('MAD with more than half the window on one value judges changes by the wider spread, not as infinitely unlikely', () => {
    // 70 % of the values sit at 10, the rest spread over 8..12: the MAD is 0.
    const rand = mulberry32(21);
    const values = Array.from({ length: 400 }, () => (rand() < 0.7 ? 10 : 8 + 4 * rand()));
    const model = make('MAD');
    const state = model.newState();
    run(model, values, state);
    // 10.6 lies between the window's 10th and 90th percentiles.
    const usual = model.observe(state, 10.6, T0);
    expect(usual.anomalous).toBe(false);
    expect(usual.score).toBeGreaterThan(0);
    expect(usual.explanation).toMatch(/MAD 0, spread/);
    const wild = model.observe(state, 40, T0);
    expect(wild.anomalous).toBe(true);
    expect(wild.score).toBeLessThan(MAX_SCORE);
    // A constant window has no spread at all: any change is as unlikely as can be.
    const flat = model.newState();
    run(model, Array.from({ length: 400 }, () => 10), flat);
    expect(model.observe(flat, 10.5, T0).score).toBe(MAX_SCORE);
  });

  it('ignores values it cannot use, leaving the state unchanged', () => {
    for (const kind of STATISTICAL) {
      const model = make(kind);
      const state = model.newState();
      run(model, series.noise(100));
      run(model, series.noise(100), state);
      const before = JSON.stringify(state);
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1e200]) {
        const v = model.observe(state, bad, T0);
        expect(v).toMatchObject({ score: 0, anomalous: false, expected: null });
        expect(v.explanation).toContain('ignored');
      }
      expect(JSON.stringify(state)).toBe(before);
    }
  });
});

describe('every kind', () => {
  /** A mixed series: noise, a spike, a step, some seasonality, a constant stretch. */
  function mixed(): number[] {
    const a = series.noise(400, 21);
    a[250] = 300;
    const b = series.seasonal(300, 22);
    const c = series.constant(100);
    const d = series.step(400, 200, 23);
    return [...a, ...b, ...c, ...d];
  }

  /** Feeds values, ticking FRESHNESS-style time-driven kinds between events; events have gaps. */
  /** What a reader of a verdict sees, read at once (explanations may be formatted lazily). */
  function visible(v: Verdict | null) {
    return v && { score: v.score, anomalous: v.anomalous, expected: v.expected, lower: v.lower, upper: v.upper, explanation: v.explanation };
  }

  function drive(model: DetectorModel, values: readonly number[], state: unknown, start: number) {
    const out: ReturnType<typeof visible>[] = [];
    for (let i = 0; i < values.length; i++) {
      const k = start + i;
      const time = T0 + k * MINUTE + (k % 97 === 0 ? 5 * MINUTE : 0);
      out.push(visible(model.tick(state, time - 1)));
      out.push(visible(model.observe(state, values[i]!, time)));
    }
    return out;
  }

  it.each(ALL_KINDS)('%s: two fresh detectors give identical verdicts', (kind) => {
    const values = mixed();
    const a = drive(make(kind), values, make(kind).newState(), 0);
    const m = make(kind);
    const b = drive(m, values, m.newState(), 0);
    expect(b).toEqual(a);
    expect(a.some((v) => v?.anomalous)).toBe(true);
  });

  it.each(ALL_KINDS)('%s: a JSON round trip of the state mid-series changes nothing', (kind) => {
    const values = mixed();
    const model = make(kind);
    const state = model.newState();
    const cut = 617;
    drive(model, values.slice(0, cut), state, 0);
    // A second model instance, as after a restart.
    const other = make(kind);
    const restored = other.restore(JSON.parse(JSON.stringify(state)));
    expect(restored).toEqual(state);
    const rest = values.slice(cut);
    expect(drive(other, rest, restored, cut)).toEqual(drive(model, rest, state, cut));
  });

  it.each(ALL_KINDS)('%s: state is plain JSON after every value, and scores are finite and >= 0', (kind) => {
    const model = make(kind);
    const state = model.newState();
    const values = [...mixed(), 1e150, -1e150, 0, -0, 5e-324, 1e-300];
    values.forEach((v, i) => {
      const verdict = model.observe(state, v, T0 + i * MINUTE);
      expect(JSON.parse(JSON.stringify(state))).toEqual(state);
      expect(Number.isFinite(verdict.score) && verdict.score >= 0 && verdict.score <= MAX_SCORE).toBe(true);
      for (const x of [verdict.expected, verdict.lower, verdict.upper]) expect(x === null || Number.isFinite(x)).toBe(true);
      expect(verdict.explanation).toContain(FIELD);
    });
  });

  it.each(ALL_KINDS)('%s: state memory is bounded (100k values vs one window)', (kind) => {
    const model = make(kind);
    const state = model.newState();
    const values = series.noise(100_000, 31);
    const window = 300;
    let atWindow = 0;
    // LIKELIHOOD keeps one slot per hour of the week: hourly events fill them all within the window.
    const spacing = kind === 'LIKELIHOOD' ? 3_600_000 : 1000;
    values.forEach((v, i) => {
      model.observe(state, v, T0 + i * spacing);
      if (i === window - 1) atWindow = JSON.stringify(state).length;
    });
    const atEnd = JSON.stringify(state).length;
    expect(atEnd).toBeLessThanOrEqual(atWindow * 1.1 + 100);
  });

  it.each(ALL_KINDS)('%s: restore refuses a state that is not its own', (kind) => {
    const model = make(kind);
    expect(() => model.restore(null)).toThrow(DetectorStateError);
    expect(() => model.restore([1, 2])).toThrow(DetectorStateError);
    if (kind !== 'THRESHOLD') expect(() => model.restore({ n: 'x' })).toThrow(DetectorStateError);
  });

  it('restore refuses another kind’s state and non-finite numbers', () => {
    const zs = make('ZSCORE');
    const mad = make('MAD');
    const s = zs.newState();
    run(zs, series.noise(50), s);
    expect(() => mad.restore(JSON.parse(JSON.stringify(s)))).toThrow(DetectorStateError);
    expect(() => zs.restore({ ...(s as object), sum: null })).toThrow(/sum/);
    expect(() => make('SEASONAL').restore({ n: 30, level: 1, trend: 0, season: [1], absSum: 0, weight: 0 })).toThrow(
      /season/,
    );
  });
});

describe('createDetector', () => {
  it('fills defaults and refuses invalid params', () => {
    const model = createDetector('ZSCORE', {}, FIELD);
    expect(model.kind).toBe('ZSCORE');
    const s = model.newState();
    // default warmup 30
    for (let i = 0; i < 30; i++) {
      expect(model.ready(s)).toBe(false);
      model.observe(s, 1, T0);
    }
    expect(model.ready(s)).toBe(true);
    expect(() => createDetector('ZSCORE', { window: 2 }, FIELD)).toThrow(BadUserInputError);
    expect(() => createDetector('THRESHOLD', {}, FIELD)).toThrow(BadUserInputError);
    expect(() => createDetector('ENSEMBLE', { members: [{ kind: 'FRESHNESS' }] }, FIELD)).toThrow(BadUserInputError);
  });

  it('statistical kinds never tick', () => {
    for (const kind of ['ZSCORE', 'MAD', 'EWMA', 'SEASONAL', 'THRESHOLD', 'ENSEMBLE'] as const) {
      const model = make(kind);
      const s = model.newState();
      run(model, series.noise(10), s);
      expect(model.tick(s, T0 + 1e12)).toBeNull();
    }
  });
});

describe('helpers', () => {
  it('sortedMad and sortedMedian agree with brute force', () => {
    const rand = mulberry32(99);
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + Math.floor(rand() * 40);
      const a: number[] = [];
      // Few distinct values so duplicates and ties are common.
      for (let i = 0; i < n; i++) sortedInsert(a, Math.floor(rand() * 12) - 3 + (rand() < 0.2 ? 0.5 : 0));
      const sorted = [...a].sort((x, y) => x - y);
      expect(a).toEqual(sorted);
      const med = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
      expect(sortedMedian(a)).toBe(med);
      const devs = sorted.map((x) => Math.abs(x - med)).sort((x, y) => x - y);
      const mad = n % 2 ? devs[(n - 1) / 2]! : (devs[n / 2 - 1]! + devs[n / 2]!) / 2;
      expect(sortedMad(a, med)).toBe(mad);
      // Also around an arbitrary centre.
      const c = rand() * 10 - 2;
      const devsC = sorted.map((x) => Math.abs(x - c)).sort((x, y) => x - y);
      expect(sortedMad(a, c)).toBe(n % 2 ? devsC[(n - 1) / 2]! : (devsC[n / 2 - 1]! + devsC[n / 2]!) / 2);
    }
  });

  it('sortedRemove removes one occurrence', () => {
    const a = [1, 2, 2, 3];
    expect(sortedRemove(a, 2)).toBe(true);
    expect(a).toEqual([1, 2, 3]);
    expect(sortedRemove(a, 5)).toBe(false);
    expect(a).toEqual([1, 2, 3]);
  });

  it('fmt renders numbers for people', () => {
    expect(fmt(912)).toBe('912');
    expect(fmt(140.2345)).toBe('140.2');
    expect(fmt(6.1234, 2)).toBe('6.1');
    expect(fmt(1.5e9)).toBe('1.5e9');
    expect(fmt(-0.00001234)).toBe('-1.234e-5');
    expect(fmt(0)).toBe('0');
    expect(fmt(100)).toBe('100');
  });
});
