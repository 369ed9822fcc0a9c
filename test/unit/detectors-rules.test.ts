import { describe, expect, it } from 'vitest';
import { createDetector, type DetectorModel, type Verdict } from '../../src/detectors/detector.ts';
import { fmt } from '../../src/detectors/format.ts';
import { mulberry32 } from '../support/seeded-events.ts';

// THRESHOLD, FRESHNESS and ENSEMBLE. Series are deterministic (mulberry32).


/** N(mean, sd) by Box-Muller. */
function noise(n: number, seed: number, mean = 100, sd = 5): number[] {
  const rand = mulberry32(seed);
  const out: number[] = [];
  while (out.length < n) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const v = 2 * Math.PI * rand();
    out.push(mean + sd * r * Math.cos(v), mean + sd * r * Math.sin(v));
  }
  return out.slice(0, n);
}

const FIELD = 'latency_ms';
const T0 = Date.UTC(2025, 0, 1);
const S = 1000;

function run(model: DetectorModel, values: readonly number[], state = model.newState()): Verdict[] {
  return values.map((v, i) => model.observe(state, v, T0 + i * S));
}

describe('THRESHOLD', () => {
  const model = createDetector('THRESHOLD', { min: 10, max: 500 }, FIELD);

  it('flags from the very first event, with the bounds as the band and no expected value', () => {
    const s = model.newState();
    const v = model.observe(s, 912, T0);
    expect(v).toMatchObject({ anomalous: true, expected: null, lower: 10, upper: 500 });
    expect(v.score).toBeCloseTo(1 + 412 / 500, 12);
    expect(v.explanation).toBe('latency_ms 912 is above the maximum 500 by 412');
    expect(model.ready(s)).toBe(true);
  });

  it('scores 0 inside the closed bounds and > 1 on any breach', () => {
    const s = model.newState();
    expect(model.observe(s, 10, T0)).toMatchObject({ score: 0, anomalous: false });
    expect(model.observe(s, 500, T0)).toMatchObject({ score: 0, anomalous: false });
    expect(model.observe(s, 250, T0).explanation).toBe('latency_ms 250 is within [10, 500]');
    const low = model.observe(s, 9.5, T0);
    expect(low.anomalous).toBe(true);
    expect(low.score).toBeCloseTo(1 + 0.5 / 10, 12);
    expect(low.explanation).toContain('below the minimum 10 by 0.5');
    const tiny = model.observe(s, 500.000001, T0);
    expect(tiny.anomalous).toBe(true);
    expect(tiny.score).toBeGreaterThan(1);
  });

  it('uses max(|bound|, 1) as the unit and supports an open bound', () => {
    const upper = createDetector('THRESHOLD', { max: 0 }, FIELD);
    const s = upper.newState();
    expect(upper.observe(s, 2, T0).score).toBe(3);
    expect(upper.observe(s, -1e9, T0)).toMatchObject({ score: 0, anomalous: false, lower: null, upper: 0 });
    const lower = createDetector('THRESHOLD', { min: -200 }, FIELD);
    expect(lower.observe(lower.newState(), -300, T0)).toMatchObject({ anomalous: true, score: 1.5, lower: -200, upper: null });
  });

  it('on known series: spike flagged, plain noise never, step flagged from the step on', () => {
    const guard = createDetector('THRESHOLD', { min: 70, max: 130 }, FIELD);
    const values = noise(2000, 1);
    expect(run(guard, values).filter((v) => v.anomalous)).toHaveLength(0);
    const spiked = [...values];
    spiked[700] = 160;
    expect(run(guard, spiked).flatMap((v, i) => (v.anomalous ? [i] : []))).toEqual([700]);
    const stepped = values.map((x, i) => (i >= 1500 ? x + 80 : x));
    const verdicts = run(guard, stepped);
    expect(verdicts.slice(0, 1500).some((v) => v.anomalous)).toBe(false);
    expect(verdicts.slice(1500).every((v) => v.anomalous)).toBe(true);
  });

  it('caps the score and ignores NaN', () => {
    const s = model.newState();
    expect(model.observe(s, 1e300, T0).score).toBe(1e6);
    expect(model.observe(s, Number.NaN, T0)).toMatchObject({ score: 0, anomalous: false });
  });
});

describe('FRESHNESS', () => {
  const model = createDetector('FRESHNESS', { maxGapSeconds: 60 }, FIELD);

  it('says nothing before the first event', () => {
    const s = model.newState();
    expect(model.tick(s, T0)).toBeNull();
    expect(model.tick(s, T0 + 1e9)).toBeNull();
  });

  it('observe never alarms, whatever the gap', () => {
    const s = model.newState();
    expect(model.observe(s, 1, T0).anomalous).toBe(false);
    const late = model.observe(s, 1, T0 + 3600 * S);
    expect(late.anomalous).toBe(false);
    expect(late.explanation).toContain('3600 s after the previous one (limit 60 s)');
  });

  it('fires once per silence and re-arms on the next event', () => {
    const s = model.newState();
    for (const t of [0, 10, 20]) model.observe(s, 5, T0 + t * S);
    expect(model.tick(s, T0 + 50 * S)).toBeNull();
    expect(model.tick(s, T0 + 80 * S)).toBeNull(); // exactly 60 s: not beyond the limit
    const fired = model.tick(s, T0 + 115 * S);
    expect(fired).not.toBeNull();
    expect(fired!.anomalous).toBe(true);
    expect(fired!.score).toBeCloseTo(95 / 60, 12);
    expect(fired!.upper).toBe(60);
    expect(fired!.explanation).toContain('no latency_ms event for 95 s (limit 60 s');
    expect(fired!.explanation).toContain(new Date(T0 + 20 * S).toISOString());
    // Same silence: no second alarm.
    expect(model.tick(s, T0 + 200 * S)).toBeNull();
    expect(model.tick(s, T0 + 5000 * S)).toBeNull();
    // A new event re-arms.
    model.observe(s, 5, T0 + 5001 * S);
    expect(model.tick(s, T0 + 5030 * S)).toBeNull();
    const again = model.tick(s, T0 + 5062 * S);
    expect(again?.anomalous).toBe(true);
    expect(again!.explanation).toContain('for 61 s');
  });

  it('a late (out-of-order) event does not rewind the clock or re-arm', () => {
    const s = model.newState();
    model.observe(s, 1, T0 + 100 * S);
    expect(model.tick(s, T0 + 200 * S)?.anomalous).toBe(true);
    model.observe(s, 1, T0 + 50 * S); // older than the last event
    expect(model.tick(s, T0 + 300 * S)).toBeNull();
  });

  it('survives a JSON round trip between firing and re-arming', () => {
    const s = model.newState();
    model.observe(s, 1, T0);
    model.tick(s, T0 + 61 * S);
    const restored = model.restore(JSON.parse(JSON.stringify(s)));
    expect(model.tick(restored, T0 + 120 * S)).toBeNull();
    model.observe(restored, 1, T0 + 130 * S);
    expect(model.tick(restored, T0 + 191 * S)?.anomalous).toBe(true);
  });
});

describe('ENSEMBLE', () => {
  // THRESHOLD alarms alone on 160; the statistical members have thresholds they will not reach.
  const members = [
    { kind: 'THRESHOLD', params: { max: 150 }, weight: 3 },
    { kind: 'ZSCORE', params: { threshold: 1000, warmup: 5 }, weight: 1 },
    { kind: 'MAD', params: { threshold: 1000, warmup: 5 }, weight: 1 },
  ];

  it('WEIGHTED lets one heavy member carry the decision; VOTE does not', () => {
    const values = [...noise(100, 3), 160];
    const weighted = run(createDetector('ENSEMBLE', { members, combine: 'WEIGHTED', threshold: 0.5 }, FIELD), values).at(-1)!;
    const vote = run(createDetector('ENSEMBLE', { members, combine: 'VOTE', threshold: 0.5 }, FIELD), values).at(-1)!;
    expect(weighted.anomalous).toBe(true);
    expect(weighted.score).toBeCloseTo(3 / 5, 12);
    expect(weighted.explanation).toContain('1 of 3 voting members alarmed on latency_ms 160 (weight 3 of 5, 60%; threshold 50%)');
    expect(vote.anomalous).toBe(false);
    expect(vote.score).toBeCloseTo(1 / 3, 12);
    expect(vote.explanation).toContain('(votes, 33.3%; threshold 50%)');
  });

  it('lists only the alarming members, and takes the band from the first statistical member', () => {
    const values = [...noise(100, 3), 160];
    const ensemble = createDetector('ENSEMBLE', { members }, FIELD);
    const zscore = createDetector('ZSCORE', members[1]!.params, FIELD);
    const v = run(ensemble, values).at(-1)!;
    const z = run(zscore, values).at(-1)!;
    expect(v.explanation).toContain('THRESHOLD (latency_ms 160 is above the maximum 150 by 10)');
    expect(v.explanation).not.toContain('ZSCORE (');
    expect(v.explanation).not.toContain('MAD (');
    expect(v.expected).toBe(z.expected);
    expect(v.lower).toBe(z.lower);
    expect(v.upper).toBe(z.upper);
  });

  it('members in warm-up do not vote; the ensemble warm-up holds alarms back', () => {
    const config = { members: [{ kind: 'THRESHOLD', params: { max: 150 } }, { kind: 'ZSCORE', params: { warmup: 30 } }] };
    // warmup 0: THRESHOLD alone votes at the first event, so its alarm is the whole share.
    const eager = createDetector('ENSEMBLE', { ...config, warmup: 0, combine: 'VOTE' }, FIELD);
    const first = eager.observe(eager.newState(), 160, T0);
    expect(first).toMatchObject({ anomalous: true, score: 1 });
    expect(first.explanation).toContain('1 of 1 voting members');
    expect(first.explanation).toContain('1 warming up');
    // Default warmup: the largest member warmup (30).
    const patient = createDetector('ENSEMBLE', { ...config, combine: 'VOTE' }, FIELD);
    const s = patient.newState();
    const early = run(patient, [160, ...noise(28, 4), 160], s);
    expect(early.some((v) => v.anomalous)).toBe(false);
    expect(early[0]!.explanation).toContain('ensemble warming up, 0 of 30 events seen');
    expect(patient.ready(s)).toBe(true);
    // Past warm-up: a spike that both members see.
    const late = patient.observe(s, 400, T0);
    expect(late).toMatchObject({ anomalous: true, score: 1 });
    expect(late.explanation).toContain('2 of 2 voting members alarmed');
  });

  it('statistical ensemble on known series: flags the spike, rarely alarms on noise', () => {
    const model = createDetector('ENSEMBLE', { members: [{ kind: 'ZSCORE' }, { kind: 'MAD' }, { kind: 'EWMA' }] }, FIELD);
    const values = noise(2000, 5);
    expect(run(model, values).filter((v) => v.anomalous).length).toBeLessThanOrEqual(2);
    const spiked = [...values];
    spiked[1200] = 170;
    const v = run(model, spiked)[1200]!;
    expect(v.anomalous).toBe(true);
    expect(v.explanation).toContain('ZSCORE (');
    expect(v.explanation).toContain('MAD (');
    expect(v.explanation).toContain(fmt(170));
  });

  it('a share exactly at the threshold alarms', () => {
    const model = createDetector(
      'ENSEMBLE',
      {
        members: [
          { kind: 'THRESHOLD', params: { max: 150 } },
          { kind: 'THRESHOLD', params: { max: 1000 } },
          { kind: 'THRESHOLD', params: { max: 120 } },
        ],
        combine: 'VOTE',
        threshold: 2 / 3,
      },
      FIELD,
    );
    expect(model.observe(model.newState(), 160, T0)).toMatchObject({ anomalous: true });
    expect(model.observe(model.newState(), 130, T0)).toMatchObject({ anomalous: false });
  });
});
