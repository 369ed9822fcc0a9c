import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/events.ts';
import { generateFile, type AnomalyKind, type SeasonName } from '../../bench/nab/synthetic.ts';
import { parseNabTime } from '../../bench/nab/loader.ts';
import { BadUserInputError } from '../../src/core/errors.ts';
import { createDetector, type DetectorModel, type Verdict } from '../../src/detectors/detector.ts';
import type { LikelihoodState } from '../../src/detectors/likelihood-state.ts';
import { normalizeDetectorParams } from '../../src/detectors/params.ts';
import { DetectorStateError } from '../../src/detectors/state-check.ts';

// LIKELIHOOD's context channels (likelihood-context.ts) on seeded synthetic series (bench/nab/synthetic.ts).

const CONTEXT = { channels: ['SEASON', 'FLAT'] };

function model(params: Record<string, unknown> = CONTEXT): DetectorModel<LikelihoodState> {
  return createDetector('LIKELIHOOD', params, 'orders') as DetectorModel<LikelihoodState>;
}

function runSeries(m: DetectorModel<LikelihoodState>, seed: number, season: SeasonName, kind: AnomalyKind) {
  const file = generateFile(seed, season, 'low', kind);
  const state = m.newState();
  const verdicts: Verdict[] = file.values.map((v, i) => m.observe(state, v, parseNabTime(file.timestamps[i] as string)));
  const inWindow = (i: number) => file.windows.some(([a, b]) => i >= a && i <= b);
  const hits = verdicts.flatMap((v, i) => (v.anomalous && inWindow(i) ? [i] : []));
  return { file, verdicts, hits, state };
}

describe('LIKELIHOOD context channels', () => {
  it('SEASON sees a daily cycle lose its amplitude, inside the range, and says so', () => {
    const { hits, verdicts } = runSeries(model(), 11, 'daily', 'amplitude');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.some((i) => /SEASON: .* at this time of the day \(daily cycle found in the series\)/.test(verdicts[i]!.explanation))).toBe(true);
  });

  it('SEASON sees a shifted phase of an hourly cycle', () => {
    const { hits, verdicts } = runSeries(model(), 12, 'hourly', 'phase');
    expect(hits.some((i) => verdicts[i]!.explanation.includes('SEASON'))).toBe(true);
  });

  it('FLAT sees a series that stops moving, and tells for how long', () => {
    const { hits, verdicts } = runSeries(model({ channels: ['FLAT'] }), 13, 'daily', 'flatline');
    const flat = hits.filter((i) => verdicts[i]!.explanation.includes('FLAT'));
    // The second flatline of the file is no longer than the first: a series that has gone flat for 6 hours may do it again.
    expect(flat.length).toBe(1);
    expect(verdicts[flat[0]!]!.explanation).toMatch(/FLAT: flat for 120 min \(25 events\) where it usually moves by [\d.]+% of its range per event/);
  });

  it('FLAT leaves a run at the lowest value seen alone (an idle series), and a run shorter than 2 hours', () => {
    const m = model({ channels: ['FLAT'] });
    const state = m.newState();
    const t0 = Date.UTC(2026, 0, 5);
    const rand = mulberry32(3);
    const series: number[] = [];
    for (let i = 0; i < 3000; i++) series.push(i >= 2000 && i < 2100 ? 0 : i >= 2500 && i < 2520 ? 50 : 10 + 80 * rand());
    const verdicts = series.map((v, i) => m.observe(state, v, t0 + i * 300_000));
    expect(verdicts.filter((v) => v.explanation.includes('FLAT'))).toEqual([]);
  });

  it('DRIFT sees a slow drift under a daily cycle before the values leave their range, once', () => {
    const m = model({ channels: ['DRIFT'] });
    const state = m.newState();
    const t0 = Date.UTC(2026, 0, 5);
    const rand = mulberry32(7);
    const noise = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const drift = (i: number) => (i >= 3000 ? 0.02 * (i - 3000) : 0);
    const verdicts = Array.from({ length: 3300 }, (_, i) =>
      m.observe(state, 100 + 20 * Math.sin((2 * Math.PI * i) / 288) + noise() + drift(i), t0 + i * 300_000),
    );
    const fired = verdicts.flatMap((v, i) => (v.anomalous && v.explanation.includes('DRIFT') ? [i] : []));
    expect(fired.length).toBe(1);
    expect(fired[0]).toBeGreaterThan(3000);
    expect(fired[0]).toBeLessThan(3200);
    expect(verdicts[fired[0]!]!.explanation).toMatch(/DRIFT: the level [\d.]+ \(seasonal shape taken out\) has drifted [\d.]+% of the range above the long baseline/);
  });

  // 12 clean series, about 65,000 events. A weekly series is judged once two weeks are seen: before that its
  // first weekends are news to a daily cycle (SEASON says so, once each).
  it.each(['SEASON', 'FLAT', 'DRIFT'])('%s stays quiet on clean series of every season and noise level', (channel) => {
    const alerts: string[] = [];
    for (const season of ['hourly', 'daily', 'weekly'] as const) {
      for (const noise of ['low', 'high'] as const) {
        for (const seed of [21, 22]) {
          const file = generateFile(seed, season, noise, 'none');
          const m = model({ channels: [channel] });
          const state = m.newState();
          const judgedFrom = season === 'weekly' ? 2 * 2016 : 0;
          file.values.forEach((v, i) => {
            const verdict = m.observe(state, v, parseNabTime(file.timestamps[i]!));
            if (i >= judgedFrom && verdict.anomalous && verdict.explanation.includes(`${channel}:`)) alerts.push(`${file.name} #${seed} row ${i}`);
          });
        }
      }
    }
    expect(alerts.length).toBeLessThanOrEqual(1);
  });

  it('keeps a bounded state per series: the same size after 2 and after 4 weeks', () => {
    const file = generateFile(16, 'weekly', 'high', 'none');
    const m = model({ channels: ['SEASON', 'FLAT', 'DRIFT'] });
    const state = m.newState();
    const sizes: number[] = [];
    file.values.forEach((v, i) => {
      m.observe(state, v, parseNabTime(file.timestamps[i]!));
      if (i === 4031 || i === 8063) sizes.push(JSON.stringify(state).length);
    });
    expect(JSON.stringify(state.context).length).toBeLessThan(9_000);
    expect(Math.abs(sizes[1]! - sizes[0]!)).toBeLessThan(500);
    expect(sizes[1]!).toBeLessThan(16_000);
  });

  it('without channels the detector is exactly as before: no context state is consulted', () => {
    const plain = runSeries(model({}), 11, 'daily', 'amplitude');
    expect(plain.verdicts.some((v) => /SEASON|FLAT|DRIFT/.test(v.explanation))).toBe(false);
    expect(plain.state.context.n).toBe(0);
  });

  it('restores a JSON checkpoint mid-stream to the same verdicts', () => {
    const file = generateFile(14, 'hourly', 'high', 'flatline');
    const times = file.timestamps.map((t) => parseNabTime(t));
    const a = model();
    const sa = a.newState();
    const straight = file.values.map((v, i) => a.observe(sa, v, times[i]!).score);
    const b = model();
    let sb = b.newState();
    const resumed = file.values.map((v, i) => {
      if (i === 2500) sb = b.restore(JSON.parse(JSON.stringify(sb)));
      return b.observe(sb, v, times[i]!).score;
    });
    expect(resumed).toEqual(straight);
    expect(JSON.stringify(sb).length).toBeLessThan(16_000);
  });

  it('restores a checkpoint written before the channels existed: the channels start fresh and warm up', () => {
    const m = model();
    const state = m.newState();
    const file = generateFile(15, 'daily', 'low', 'none');
    file.values.slice(0, 1000).forEach((v, i) => m.observe(state, v, parseNabTime(file.timestamps[i]!)));
    const old = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
    delete old.context;
    const restored = m.restore(old);
    expect(restored.context.n).toBe(0);
    const next = file.values.slice(1000, 1300).map((v, i) => m.observe(restored, v, parseNabTime(file.timestamps[1000 + i]!)));
    expect(next.some((v) => /SEASON|FLAT/.test(v.explanation) && v.anomalous)).toBe(false);
    expect(() => m.restore({ ...old, context: { n: 1 } })).toThrow(DetectorStateError);
  });

  it('validates the channels setting, naming it', () => {
    expect(normalizeDetectorParams('LIKELIHOOD', { channels: ['SEASON'] }).channels).toEqual(['SEASON']);
    expect(normalizeDetectorParams('LIKELIHOOD', {})).not.toHaveProperty('channels');
    expect(() => normalizeDetectorParams('LIKELIHOOD', { channels: ['SEASONS'] })).toThrow(BadUserInputError);
    expect(() => normalizeDetectorParams('LIKELIHOOD', { channels: ['FLAT', 'FLAT'] })).toThrow(/input\.params\.channels.*distinct/);
    expect(() => normalizeDetectorParams('LIKELIHOOD', { channels: 'FLAT' })).toThrow(/channels/);
  });
});
