import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchNab, planRuns } from '../../bench/nab/cli.ts';
import { loadCorpus, writeSyntheticCorpus } from '../../bench/nab/loader.ts';
import { NAB_PROFILES } from '../../bench/nab/scorer.ts';
import { ANOMALY_KINDS, generateCorpus, generateFile, rowsFor } from '../../bench/nab/synthetic.ts';

describe('synthetic corpus', () => {
  it('is the same for the same seed and differs between seeds', () => {
    expect(generateFile(3, 'daily', 'low', 'spike')).toEqual(generateFile(3, 'daily', 'low', 'spike'));
    expect(generateFile(3, 'daily', 'low', 'spike').values).not.toEqual(generateFile(4, 'daily', 'low', 'spike').values);
  });

  it('has every kind in every season and noise level, with windows around the onsets', () => {
    const files = generateCorpus(1);
    expect(files).toHaveLength(3 * 2 * ANOMALY_KINDS.length);
    expect(new Set(files.map((f) => f.kind))).toEqual(new Set(ANOMALY_KINDS));
    for (const f of files) {
      expect(f.values).toHaveLength(rowsFor(f.category.startsWith('weekly') ? 'weekly' : 'daily'));
      expect(f.windows.length).toBe(f.kind === 'none' ? 0 : f.kind === 'drift' ? 1 : 2);
      for (const [a, b] of f.windows) expect(a > 0.15 * f.values.length && b < f.values.length && a < b).toBe(true);
    }
  });

  it('plants the anomaly it labels: a flatline repeats one value, an amplitude loss shrinks the cycle', () => {
    const flat = generateFile(5, 'daily', 'high', 'flatline');
    const [start, end] = flat.windows[0]!;
    const onset = start + Math.floor((end - start + 1) / 2);
    expect(new Set(flat.values.slice(onset, onset + 72)).size).toBe(1);
    const amp = generateFile(5, 'daily', 'low', 'amplitude');
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    const [s2, e2] = amp.windows[0]!;
    const o2 = s2 + Math.floor((e2 - s2 + 1) / 2);
    expect(spread(amp.values.slice(o2, o2 + 288))).toBeLessThan(spread(amp.values.slice(o2 - 288, o2)) / 2);
  });

  it('labels the window where the anomaly starts: the series leaves its clean twin (same seed) in the middle of its first window', () => {
    const additive = ANOMALY_KINDS.filter((k) => !['none', 'count_burst', 'walk_jump'].includes(k));
    for (const season of ['hourly', 'daily', 'weekly'] as const) {
      for (const kind of additive) {
        const clean = generateFile(8, season, 'high', 'none');
        const file = generateFile(8, season, 'high', kind);
        const onset = file.values.findIndex((v, i) => v !== clean.values[i]);
        const [start, end] = file.windows[0]!;
        // A drift's ramp starts from 0 at its onset, so the series leaves its twin one row later.
        const mid = Math.floor((end - start + 1) / 2) + (kind === 'drift' ? 1 : 0);
        expect({ season, kind, onset: onset - start }).toEqual({ season, kind, onset: mid });
      }
    }
    const burst = generateFile(8, 'daily', 'low', 'count_burst');
    const [start, end] = burst.windows[0]!;
    const onset = start + Math.floor((end - start + 1) / 2);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(burst.values.every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    expect(mean(burst.values.slice(onset, onset + 36))).toBeGreaterThan(2 * mean(burst.values.slice(onset - 36, onset)));
  });

  it('compares parameter sets of one kind in the same run (scores and events per second)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-synthetic-'));
    try {
      await writeSyntheticCorpus(dir, generateCorpus(10).filter((f) => f.category === 'hourly_high' && ['none', 'flatline'].includes(f.kind)));
      const plan = planRuns('LIKELIHOOD', '[{}, {"channels":["FLAT"]}]');
      expect(plan.map((p) => p.label)).toEqual(['LIKELIHOOD[1]', 'LIKELIHOOD[2]']);
      expect(() => planRuns('LIKELIHOOD', '[{}, 1]')).toThrow(/--params\[1\]/);
      let report = '';
      await benchNab({ dir, plan, print: (t) => (report += t), progress: () => {} });
      expect(report).toMatch(/vigil LIKELIHOOD\[2\] .*this run, params \{"channels":\["FLAT"\]\}/);
      expect(report).toMatch(/\nLIKELIHOOD\[1\] .* [\d,]+ +[\d.]+ s\n/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is written in NAB layout and benched per kind of anomaly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-synthetic-'));
    try {
      const files = generateCorpus(9).filter((f) => f.category === 'hourly_low');
      await writeSyntheticCorpus(dir, files);
      const corpus = await loadCorpus(dir, NAB_PROFILES);
      expect(corpus.files.map((f) => f.kind).sort()).toEqual([...ANOMALY_KINDS].sort());
      expect(JSON.parse(await readFile(join(dir, 'labels', 'anomaly_kinds.json'), 'utf8'))['hourly_low/spike.csv']).toBe('spike');
      let report = '';
      await benchNab({ dir, plan: [{ kind: 'LIKELIHOOD', params: { channels: ['SEASON', 'FLAT'] } }], print: (t) => (report += t), progress: () => {} });
      expect(report).toMatch(/Per kind of anomaly/);
      expect(report).toMatch(/\nflatline\s+1\s+2\s+\d\/2 FP \d+/);
      expect(report).toMatch(/\nnone\s+1\s+0\s+FP \d+/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
