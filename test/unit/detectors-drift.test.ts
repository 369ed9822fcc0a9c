import { describe, expect, it } from 'vitest';
import { createDetector, type DetectorModel, type Verdict } from '../../src/detectors/detector.ts';
import { DRIFT_MIN_EVENTS_DEFAULT, DRIFT_THRESHOLD_DEFAULT } from '../../src/detectors/drift.ts';
import { DETECTOR_PARAM_SPECS, normalizeDetectorParams } from '../../src/detectors/params.ts';
import { DetectorStateError } from '../../src/detectors/state-check.ts';
import type { DetectorKind } from '../../src/generated/prisma/enums.ts';
import { mulberry32, normals } from '../support/seeded-events.ts';
import { badInput } from '../support/bad-input.ts';
import { visible } from '../support/verdicts.ts';

// Deterministic series: a seeded PRNG (mulberry32) and Box-Muller normals, as in detectors.test.ts.


const PERIOD = 24;
const season = (t: number) => 20 * Math.sin((2 * Math.PI * t) / PERIOD);
const series = {
  /** N(100, 5). */
  noise: (n: number, seed: number) => normals(n, seed).map((z) => 100 + 5 * z),
  /** N(100, 5), shifted by `shift` from index `at` on. */
  step: (n: number, at: number, shift: number, seed: number) => normals(n, seed).map((z, i) => 100 + 5 * z + (i >= at ? shift : 0)),
  /** 100 + 20 sin(2 pi t / 24) + N(0, 1), shifted by `shift` from `at` on. */
  seasonal: (n: number, seed: number, at = Number.POSITIVE_INFINITY, shift = 0) =>
    normals(n, seed).map((z, t) => 100 + season(t) + z + (t >= at ? shift : 0)),
  /** 100 + AR(1) with phi 0.9 and unit innovations (sd about 2.3): a slowly wandering metric. */
  ar: (n: number, seed: number) => {
    let x = 0;
    return normals(n, seed).map((e) => 100 + (x = 0.9 * x + e));
  },
};

const T0 = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;
const FIELD = 'latency_ms';
const STATISTICAL = ['ZSCORE', 'MAD', 'EWMA', 'SEASONAL'] as const;
type Statistical = (typeof STATISTICAL)[number];

/** Drift on; SEASONAL with a daily period. */
function make(kind: DetectorKind, extra: Record<string, unknown> = {}): DetectorModel {
  return createDetector(kind, { ...(kind === 'SEASONAL' ? { period: PERIOD } : {}), drift: 'REBASELINE', ...extra }, FIELD);
}

function run(model: DetectorModel, values: readonly number[], state = model.newState(), start = 0): Verdict[] {
  return values.map((v, i) => model.observe(state, v, T0 + (start + i) * MINUTE));
}

const indices = (verdicts: readonly Verdict[], test: (v: Verdict) => boolean) => verdicts.flatMap((v, i) => (test(v) ? [i] : []));
const detections = (verdicts: readonly Verdict[]) => indices(verdicts, (v) => v.drift === 'DETECTED');
const clearances = (verdicts: readonly Verdict[]) => indices(verdicts, (v) => v.drift === 'CLEARED');
const alarms = (verdicts: readonly Verdict[]) => indices(verdicts, (v) => v.anomalous);


// ---------------------------------------------------------------------------

describe('drift params', () => {
  it('are absent unless given, so stored versions keep their meaning (absent = OFF)', () => {
    expect(normalizeDetectorParams('ZSCORE', {})).toEqual({ window: 300, threshold: 4, warmup: 30, direction: 'BOTH' });
    expect(normalizeDetectorParams('ZSCORE', { drift: 'OFF' })).toEqual({ window: 300, threshold: 4, warmup: 30, direction: 'BOTH', drift: 'OFF' });
  });

  it('REBASELINE states its settings, defaults filled, in stored order, idempotently', () => {
    const p = normalizeDetectorParams('MAD', { drift: 'REBASELINE' });
    expect(p).toEqual({ window: 300, threshold: 5, warmup: 30, direction: 'BOTH', drift: 'REBASELINE', driftThreshold: 50, driftMinEvents: 30 });
    expect(Object.keys(p)).toEqual(['window', 'threshold', 'warmup', 'direction', 'drift', 'driftThreshold', 'driftMinEvents']);
    expect([DRIFT_THRESHOLD_DEFAULT, DRIFT_MIN_EVENTS_DEFAULT]).toEqual([50, 30]);
    expect(normalizeDetectorParams('MAD', structuredClone(p))).toEqual(p);
    expect(normalizeDetectorParams('SEASONAL', { drift: 'REBASELINE', driftThreshold: 80, driftMinEvents: 100 })).toMatchObject({
      drift: 'REBASELINE',
      driftThreshold: 80,
      driftMinEvents: 100,
    });
    // Ensemble members take them too.
    const e = normalizeDetectorParams('ENSEMBLE', { members: [{ kind: 'EWMA', params: { drift: 'REBASELINE' } }] });
    expect((e.members as { params: Record<string, unknown> }[])[0]!.params).toMatchObject({ drift: 'REBASELINE', driftThreshold: 50 });
  });

  it.each([
    [{ drift: 'rebaseline' }, 'input.params.drift'],
    [{ drift: true }, 'input.params.drift'],
    [{ drift: 'REBASELINE', driftThreshold: 0 }, 'input.params.driftThreshold'],
    [{ drift: 'REBASELINE', driftThreshold: '50' }, 'input.params.driftThreshold'],
    [{ driftThreshold: Number.POSITIVE_INFINITY }, 'input.params.driftThreshold'],
    [{ drift: 'REBASELINE', driftMinEvents: 0 }, 'input.params.driftMinEvents'],
    [{ drift: 'REBASELINE', driftMinEvents: 2.5 }, 'input.params.driftMinEvents'],
    [{ drifts: 'REBASELINE' }, 'input.params.drifts'],
  ])('refuses %j, naming %s', (params, field) => {
    const error = badInput(() => normalizeDetectorParams('ZSCORE', params));
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it('names the nested path in an ensemble member, and THRESHOLD has no drift setting', () => {
    const error = badInput(() => normalizeDetectorParams('ENSEMBLE', { members: [{ kind: 'MAD' }, { kind: 'ZSCORE', params: { drift: 'ON' } }] }));
    expect(error.field).toBe('input.params.members[1].params.drift');
    expect(badInput(() => normalizeDetectorParams('THRESHOLD', { max: 1, drift: 'REBASELINE' })).field).toBe('input.params.drift');
  });

  it('are described for docs on every statistical kind', () => {
    for (const kind of STATISTICAL) {
      for (const key of ['drift', 'driftThreshold', 'driftMinEvents']) {
        expect(DETECTOR_PARAM_SPECS[kind][key]?.description.length, `${kind}.${key}`).toBeGreaterThan(40);
      }
    }
  });
});

describe('drift detection', () => {
  /**
   * Per kind: a level shift that drifts for it. EWMA and SEASONAL follow a
   * level change by themselves (memory about 2/alpha events), so it is only
   * drift, a change their baseline cannot follow, with a slow alpha; see below
   * for their default alphas.
   */
  const SHIFTS: Record<Statistical, { extra: Record<string, unknown>; values: (seed: number) => number[]; level: number }> = {
    ZSCORE: { extra: {}, values: (seed) => series.step(6000, 3000, 40, seed), level: 140 },
    MAD: { extra: {}, values: (seed) => series.step(6000, 3000, 40, seed), level: 140 },
    EWMA: { extra: { alpha: 0.01 }, values: (seed) => series.step(6000, 3000, 40, seed), level: 140 },
    SEASONAL: { extra: { alpha: 0.02 }, values: (seed) => series.seasonal(6000, seed, 3000, 8), level: 108 },
  };
  const AT = 3000;

  describe.each(STATISTICAL)('%s', (kind) => {
    const { extra, values, level } = SHIFTS[kind];

    it('detects a lasting 8-sigma step within 60 events, re-baselines without alarming, and clears after warm-up', () => {
      for (const seed of [1, 2, 3]) {
        const model = make(kind, extra);
        const state = model.newState();
        const verdicts: Verdict[] = [];
        const ready: boolean[] = [];
        const drifting: boolean[] = [];
        for (const [i, v] of values(seed).entries()) {
          verdicts.push(model.observe(state, v, T0 + i * MINUTE));
          ready.push(model.ready(state));
          drifting.push(model.drifting!(state));
        }
        const [detected, ...more] = detections(verdicts);
        expect(more, `seed ${seed}`).toEqual([]);
        expect(detected, `seed ${seed}`).toBeGreaterThanOrEqual(AT + DRIFT_MIN_EVENTS_DEFAULT - 1);
        expect(detected, `seed ${seed}`).toBeLessThanOrEqual(AT + 60);
        const d = verdicts[detected!]!;
        expect(d.anomalous).toBe(false);
        expect(d.explanation).toMatch(/drift detected: values have run above the baseline for \d+ events \(Page-Hinkley [\d.]+ > 50\); re-baselining/);
        // The series warms up again: not ready, no alarms, drifting, until the CLEARED event.
        const [cleared, ...again] = clearances(verdicts);
        expect(again).toEqual([]);
        const warmup = kind === 'SEASONAL' ? 2 * PERIOD : 30;
        expect(cleared).toBe(detected! + warmup - 1);
        expect(ready[cleared! - 1]).toBe(false);
        expect(ready[cleared!]).toBe(true);
        expect(drifting.slice(detected!, cleared)).toEqual(Array(cleared! - detected!).fill(true));
        expect(drifting.slice(cleared!).every((x) => !x)).toBe(true);
        expect(drifting.slice(0, detected).every((x) => !x)).toBe(true);
        expect(alarms(verdicts).filter((i) => i >= detected! && i <= cleared!)).toEqual([]);
        expect(verdicts[cleared!]!.explanation).toContain('drift cleared');
        // On the new level: its baseline, and (almost) no alarms.
        expect(alarms(verdicts).filter((i) => i > cleared!).length).toBeLessThanOrEqual(3);
        if (kind !== 'SEASONAL') expect(Math.abs(verdicts.at(-1)!.expected! - level)).toBeLessThan(3);
        else expect(Math.abs(verdicts.at(-1)!.expected! - (level + season(5999)))).toBeLessThan(3);
        // Every other event leaves drift out altogether.
        const marked = new Set([detected, cleared]);
        expect(verdicts.every((v, i) => marked.has(i) || !Object.hasOwn(v, 'drift'))).toBe(true);
      }
    });

    it('detects a fall too, and says so', () => {
      const down = values(4).map((x, i) => (i >= AT ? 2 * (x - (i >= AT ? (kind === 'SEASONAL' ? 8 : 40) : 0)) - x : x));
      const verdicts = run(make(kind, extra), down);
      const [detected] = detections(verdicts);
      expect(detected).toBeGreaterThanOrEqual(AT);
      expect(detected).toBeLessThanOrEqual(AT + 60);
      expect(verdicts[detected!]!.explanation).toContain('run below the baseline');
    });

    it('never drifts on 20k points of stationary noise (SEASONAL: noise on a daily cycle)', () => {
      for (const seed of [11, 12]) {
        const values = kind === 'SEASONAL' ? series.seasonal(20_000, seed) : series.noise(20_000, seed);
        const verdicts = run(make(kind), values);
        expect(detections(verdicts)).toEqual([]);
        expect(clearances(verdicts)).toEqual([]);
      }
    });

    it('does not drift on a spike, nor on an incident shorter than driftMinEvents, and still alerts on them', () => {
      const values = kind === 'SEASONAL' ? series.seasonal(3000, 21) : series.noise(3000, 21);
      const sd = kind === 'SEASONAL' ? 1 : 5;
      values[1000] = values[1000]! + 100 * sd;
      for (let i = 2000; i < 2025; i++) values[i] = values[i]! + 12 * sd; // 25 events of 12 sigma
      const verdicts = run(make(kind), values);
      expect(detections(verdicts)).toEqual([]);
      expect(verdicts[1000]!.anomalous).toBe(true);
      expect(verdicts[2000]!.anomalous).toBe(true);
    });
  });

  it('on a slowly wandering (autocorrelated) metric, ZSCORE and MAD do not take the wander for drift', () => {
    for (const kind of ['ZSCORE', 'MAD'] as const) {
      expect(detections(run(make(kind), series.ar(20_000, 31))), kind).toEqual([]);
    }
  });

  it('EWMA and SEASONAL with their default alphas follow an 8-sigma step by themselves: no drift, and the alarms stop within a few events', () => {
    for (const [kind, values] of [
      ['EWMA', series.step(6000, AT, 40, 5)],
      ['SEASONAL', series.seasonal(6000, 5, AT, 8)],
    ] as const) {
      const verdicts = run(make(kind), values);
      expect(detections(verdicts), kind).toEqual([]);
      expect(alarms(verdicts).filter((i) => i >= AT && i < AT + 20).length, kind).toBeGreaterThan(0);
      expect(alarms(verdicts).filter((i) => i >= AT + 20).length, kind).toBeLessThanOrEqual(2);
    }
  });

  it('a value so extreme that it wrecks ZSCORE\'s baseline for a window is repaired by a re-baseline', () => {
    const values = series.noise(3000, 25);
    values[1000] = 1e6; // the window's sd becomes about 58000 for 300 events
    values[1150] = 150; // 10 sigma
    const off = run(createDetector('ZSCORE', {}, FIELD), values);
    const on = run(make('ZSCORE'), values);
    expect(off[1150]!.anomalous).toBe(false);
    const [detected] = detections(on);
    expect(detected! - 1000).toBeLessThan(60);
    expect(on[detected!]!.explanation).toContain('run below the baseline');
    expect(on[1150]!.anomalous).toBe(true);
  });

  it('driftMinEvents: a change must last that long; shorter settings detect sooner', () => {
    const values = series.step(4000, 2000, 40, 41);
    const short = detections(run(make('ZSCORE', { driftMinEvents: 10 }), values));
    const standard = detections(run(make('ZSCORE'), values));
    const long = detections(run(make('ZSCORE', { driftMinEvents: 100 }), values));
    expect(short[0]! - 2000).toBeLessThan(15);
    expect(short[0]! - 2000).toBeGreaterThanOrEqual(9);
    expect(standard[0]! - 2000).toBeGreaterThanOrEqual(29);
    expect(long[0]! - 2000).toBeGreaterThanOrEqual(99);
    expect(long[0]! - 2000).toBeLessThan(130);
    // A 40-event incident is drift for the standard setting, an anomaly for driftMinEvents 100.
    const incident = series.step(4000, 2000, 40, 42).map((x, i) => (i >= 2040 ? x - 40 : x));
    expect(detections(run(make('ZSCORE', { driftMinEvents: 100 }), incident))).toEqual([]);
    expect(detections(run(make('ZSCORE'), incident)).length).toBe(1);
  });

  it('driftThreshold: higher detects smaller shifts later, or not at all', () => {
    const values = series.step(4000, 2000, 15, 43); // 3 sigma
    const standard = detections(run(make('ZSCORE'), values))[0]!;
    const higher = detections(run(make('ZSCORE', { driftThreshold: 100 }), values))[0];
    expect(standard - 2000).toBeLessThan(60);
    expect(higher === undefined || higher > standard).toBe(true);
    // A 1-sigma shift is below the test's tolerance: ZSCORE absorbs it without alerting, so it is not drift.
    expect(detections(run(make('ZSCORE'), series.step(4000, 2000, 5, 44)))).toEqual([]);
  });

  it('contrast with drift OFF: MAD keeps alerting on the new level for more than twice as long', () => {
    const values = series.step(2000, 1000, 40, 51);
    const offVerdicts = run(createDetector('MAD', {}, FIELD), values);
    const off = alarms(offVerdicts).filter((i) => i >= 1000 && i < 1250);
    const on = run(make('MAD'), values);
    const onAlarms = alarms(on).filter((i) => i >= 1000 && i < 1250);
    const [detected] = detections(on);
    expect(onAlarms.every((i) => i < detected!)).toBe(true);
    expect(off.length).toBeGreaterThan(2 * onAlarms.length);
    expect(off.at(-1)!).toBeGreaterThan(detected! + 20);
  });

  it('contrast with drift OFF: ZSCORE keeps a wrong baseline (mean between the levels, inflated sd) and misses a spike on the new level', () => {
    const values = series.step(2000, 1000, 40, 52);
    values[1200] = 140 + 30; // 6 sigma above the new level
    const off = run(createDetector('ZSCORE', {}, FIELD), values);
    const on = run(make('ZSCORE'), values);
    expect(off[1200]!.anomalous).toBe(false);
    expect(off[1200]!.expected!).toBeLessThan(130);
    expect(off[1200]!.upper! - off[1200]!.expected!).toBeGreaterThan(60); // 4 x an sd of over 15
    expect(on[1200]!.anomalous).toBe(true);
    expect(Math.abs(on[1200]!.expected! - 140)).toBeLessThan(2);
    expect(on[1200]!.upper! - on[1200]!.expected!).toBeLessThan(25); // 4 x an sd of about 5
  });

  it('is deterministic, and a JSON round trip of the state at any point changes nothing', () => {
    for (const kind of STATISTICAL) {
      const { extra, values } = SHIFTS[kind];
      const all = values(61);
      const reference = run(make(kind, extra), all);
      const [detected] = detections(reference);
      const [cleared] = clearances(reference);
      // Cuts: learning, mid-excursion, right at detection, mid re-warm-up, after clearing.
      for (const cut of [10, AT + 10, detected! + 1, detected! + 5, cleared! + 3]) {
        const model = make(kind, extra);
        const state = model.newState();
        run(model, all.slice(0, cut), state);
        const other = make(kind, extra);
        const restored = other.restore(JSON.parse(JSON.stringify(state)));
        expect(restored).toEqual(state);
        expect(other.drifting!(restored)).toBe(model.drifting!(state));
        const rest = run(other, all.slice(cut), restored, cut);
        expect(rest.map(visible), `${kind} cut ${cut}`).toEqual(reference.slice(cut).map(visible));
      }
    }
  });

  it('restores a state written with drift off (the test starts afresh) and refuses broken drift fields', () => {
    const plain = createDetector('ZSCORE', {}, FIELD);
    const s = plain.newState();
    run(plain, series.noise(500, 71), s);
    const model = make('ZSCORE');
    const restored = model.restore(JSON.parse(JSON.stringify(s))) as Record<string, unknown>;
    expect(restored).toMatchObject({ drifting: 0, driftSeen: 0, driftUp: 0 });
    expect(model.drifting!(restored)).toBe(false);
    expect(detections(run(model, series.step(1000, 200, 40, 72), restored, 500)).length).toBe(1);

    const good = model.newState() as Record<string, unknown>;
    run(model, series.noise(200, 73), good);
    expect(() => model.restore({ ...good, driftUp: -1 })).toThrow(DetectorStateError);
    expect(() => model.restore({ ...good, drifting: 2 })).toThrow(/drifting/);
    expect(() => model.restore({ ...good, driftVar: null })).toThrow(/driftVar/);
    expect(() => model.restore({ ...good, driftUpRun: 1e6 })).toThrow(DetectorStateError);
    // The kind's own checks still come first.
    expect(() => model.restore({ ...good, sum: null })).toThrow(/sum/);
  });

  it('keeps memory bounded: 100k events with repeated level changes', () => {
    for (const kind of STATISTICAL) {
      const model = make(kind, SHIFTS[kind].extra);
      const state = model.newState();
      const z = normals(100_000, 81);
      let atWindow = 0;
      let largest = 0;
      let detected = 0;
      for (let i = 0; i < z.length; i++) {
        const level = 100 + 40 * (Math.floor(i / 10_000) % 3); // a new level every 10k events
        const v = model.observe(state, level + 5 * z[i]! + (kind === 'SEASONAL' ? season(i) : 0), T0 + i * 1000);
        if (v.drift === 'DETECTED') detected += 1;
        if (i === 599) atWindow = JSON.stringify(state).length;
        if (i % 997 === 0) largest = Math.max(largest, JSON.stringify(state).length);
      }
      expect(detected, kind).toBeGreaterThanOrEqual(9);
      expect(largest, kind).toBeLessThanOrEqual(atWindow * 1.1 + 200);
    }
  });

  it('ENSEMBLE: drifting while any member is; DETECTED from the first member, CLEARED when the last one has a baseline again', () => {
    const model = createDetector(
      'ENSEMBLE',
      {
        members: [
          { kind: 'ZSCORE', params: { drift: 'REBASELINE' } },
          { kind: 'MAD', params: { drift: 'REBASELINE', driftMinEvents: 60 } },
          { kind: 'THRESHOLD', params: { max: 1000 } },
        ],
      },
      FIELD,
    );
    const state = model.newState();
    const verdicts: Verdict[] = [];
    const drifting: boolean[] = [];
    for (const [i, v] of series.step(3000, 1500, 40, 91).entries()) {
      verdicts.push(model.observe(state, v, T0 + i * MINUTE));
      drifting.push(model.drifting!(state));
    }
    const detected = detections(verdicts);
    const cleared = clearances(verdicts);
    // ZSCORE detects after about 30 events, MAD (driftMinEvents 60) after about 60: two DETECTED, one CLEARED after MAD's warm-up.
    expect(detected.length).toBe(2);
    expect(detected[1]! - detected[0]!).toBeGreaterThan(20);
    expect(cleared).toEqual([detected[1]! + 29]);
    expect(drifting.slice(detected[0]!, cleared[0]!).every(Boolean)).toBe(true);
    expect(drifting.slice(cleared[0]!).some(Boolean)).toBe(false);
    expect(verdicts[detected[0]!]!.explanation).toContain('a member detected drift');
    expect(verdicts[cleared[0]!]!.explanation).toContain('drift cleared');
    // An ensemble of members without drift detection never reports any.
    const plain = createDetector('ENSEMBLE', { members: [{ kind: 'ZSCORE' }, { kind: 'MAD' }] }, FIELD);
    const ps = plain.newState();
    expect(run(plain, series.step(3000, 1500, 40, 91), ps).some((v) => v.drift !== undefined)).toBe(false);
    expect(plain.drifting!(ps)).toBe(false);
  });

  it('leaves models without drift untouched: no drifting(), same state keys, same verdicts as before', () => {
    const model = createDetector('ZSCORE', {}, FIELD);
    expect(model.drifting).toBeUndefined();
    const state = model.newState() as Record<string, unknown>;
    expect(Object.keys(state)).toEqual(['n', 'buf', 'head', 'shift', 'sum', 'sumSq', 'since']);
    const off = createDetector('ZSCORE', { drift: 'OFF' }, FIELD);
    const values = series.step(2000, 1000, 40, 95);
    const a = run(model, values, state).map(visible);
    const b = run(off, values).map(visible);
    expect(b).toEqual(a);
  });
});
