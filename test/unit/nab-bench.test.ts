import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchCommand, benchNab, parseFileSelection, planRuns, selectFiles } from '../../bench/nab/cli.ts';
import { loadCorpus, loadResultScores, parseDataCsv, parseNabTime, parseScoreCsv, type NabFile } from '../../bench/nab/loader.ts';
import { table, thousands } from '../../bench/nab/report.ts';
import { equivalentScore, nabScore, paramsForFile, runDetector, runFile } from '../../bench/nab/runner.ts';
import { NAB_PROFILES, NabScoringError } from '../../bench/nab/scorer.ts';
import { scoreDetector } from '../../bench/nab/sweep.ts';
import { BadUserInputError } from '../../src/core/errors.ts';

describe('NAB loader', () => {
  it('reads data CSVs (LF or CRLF) and refuses anything else', () => {
    const { timestamps, values } = parseDataCsv('f', 'timestamp,value\r\n2014-01-01 00:00:00,1.5\r\n2014-01-01 00:05:00,-2\r\n');
    expect(timestamps).toEqual(['2014-01-01 00:00:00', '2014-01-01 00:05:00']);
    expect([...values]).toEqual([1.5, -2]);
    expect(() => parseDataCsv('f', 'time,value\n')).toThrow(NabScoringError);
    expect(() => parseDataCsv('f', 'timestamp,value\n2014-01-01 00:00:00,\n')).toThrow(/line 2/);
    expect(() => parseDataCsv('f', 'timestamp,value\n2014-01-01 00:00:00,abc\n')).toThrow(/finite/);
  });

  it('reads the anomaly_score column wherever it is', () => {
    expect([...parseScoreCsv('f', 'anomaly_score\n0.5\n1\n')]).toEqual([0.5, 1]);
    expect([...parseScoreCsv('f', 'timestamp,value,anomaly_score,label\nt,3,0.25,0\n')]).toEqual([0.25]);
    expect(() => parseScoreCsv('f', 'score\n0.5\n')).toThrow(/anomaly_score/);
    expect(() => parseScoreCsv('f', 'anomaly_score\nNaN\n')).toThrow(/numeric/);
  });

  it('parses NAB timestamps as UTC', () => {
    expect(parseNabTime('2014-01-01 00:05:00')).toBe(Date.UTC(2014, 0, 1, 0, 5));
    expect(parseNabTime('2014-01-01 00:05:00.000000')).toBe(Date.UTC(2014, 0, 1, 0, 5));
  });
});

describe('NAB runner: the score map', () => {
  it('score / (score + theta): 0 at 0, 0.5 at the threshold, increasing, below 1; 0 while warming up', () => {
    expect(nabScore({ score: 0 }, 4, true)).toBe(0);
    expect(nabScore({ score: 4 }, 4, true)).toBe(0.5);
    expect(nabScore({ score: 12 }, 4, true)).toBe(0.75);
    expect(nabScore({ score: 1e6 }, 4, true)).toBeLessThan(1);
    expect(nabScore({ score: 9 }, 4, false)).toBe(0);
    let last = -1;
    for (const s of [0, 1e-9, 0.5, 1, 3.99, 4, 4.01, 100, 1e5, 1e6]) {
      const v = nabScore({ score: s }, 4, true);
      expect(v).toBeGreaterThan(last);
      last = v;
    }
    expect(equivalentScore(0.75, 4)).toBe(12);
    expect(equivalentScore(1, 4)).toBe(Infinity);
  });

  it('THRESHOLD takes the file min and max unless given; ENSEMBLE gets default members', () => {
    expect(paramsForFile('THRESHOLD', {}, { min: -1, max: 7 })).toEqual({ min: -1, max: 7 });
    expect(paramsForFile('THRESHOLD', {}, { min: 3, max: 3 })).toEqual({ min: null, max: 3 });
    expect(paramsForFile('THRESHOLD', { max: 5 }, { min: -1, max: 7 })).toEqual({ max: 5 });
    expect(paramsForFile('ENSEMBLE', {}, { min: 0, max: 1 })).toMatchObject({ members: [{ kind: 'ZSCORE' }, { kind: 'MAD' }, { kind: 'EWMA' }] });
    expect(paramsForFile('ZSCORE', { window: 50 }, { min: 0, max: 1 })).toEqual({ window: 50 });
  });

  const small = (values: number[]): NabFile => ({
    name: 'c/f.csv',
    category: 'c',
    file: 'f.csv',
    timestamps: values.map((_, i) => `2014-01-01 00:${String(i % 60).padStart(2, '0')}:00`),
    times: Float64Array.from(values, (_, i) => i * 60_000),
    values: Float64Array.from(values),
    min: Math.min(...values),
    max: Math.max(...values),
    windows: [],
  });

  it('a fresh detector per file, one value at a time: a spike after warm-up scores high, warm-up scores 0', () => {
    const values = Array.from({ length: 80 }, (_, i) => 100 + (i % 2 === 0 ? 1 : -1));
    values[60] = 200;
    const { scores } = runFile('ZSCORE', {}, small(values));
    expect([...scores.slice(0, 30)].every((s) => s === 0)).toBe(true); // warm-up (30 events)
    expect(scores[60]).toBeGreaterThan(0.9);
    expect(scores[59]).toBeLessThan(0.3);
    // Deterministic: a second run gives the same scores (no state shared between files).
    expect([...runFile('ZSCORE', {}, small(values)).scores]).toEqual([...scores]);
    // THRESHOLD with the file's own min and max never fires.
    expect([...runFile('THRESHOLD', {}, small(values)).scores].every((s) => s === 0)).toBe(true);
    for (const kind of ['MAD', 'EWMA', 'SEASONAL', 'ENSEMBLE'] as const) {
      const run = runFile(kind, {}, small(values)).scores;
      expect(run.every((s) => s >= 0 && s < 1)).toBe(true);
    }
  });

  it('bad params fail before any work, naming the setting', () => {
    expect(() => runDetector('ZSCORE', { window: 1 }, [small([1, 2, 3])], NAB_PROFILES)).toThrow(BadUserInputError);
    expect(() => runDetector('EWMA', { bogus: 1 }, [small([1, 2, 3])], NAB_PROFILES)).toThrow(/bogus/);
  });
});

describe('NAB bench command', () => {
  it('plans runs from --detector and --params', () => {
    expect(planRuns('all', undefined).map((r) => r.kind)).toEqual(['ZSCORE', 'MAD', 'EWMA', 'SEASONAL', 'THRESHOLD', 'LIKELIHOOD', 'ENSEMBLE']);
    expect(planRuns('zscore', '{"window":600}')).toEqual([{ kind: 'ZSCORE', params: { window: 600 } }]);
    expect(planRuns('all', '{"EWMA":{"alpha":0.01}}').find((r) => r.kind === 'EWMA')?.params).toEqual({ alpha: 0.01 });
    expect(planRuns('MAD', '{"MAD":{"window":50}}')).toEqual([{ kind: 'MAD', params: { window: 50 } }]);
    expect(() => planRuns('FRESHNESS', undefined)).toThrow(/--detector/);
    expect(() => planRuns('all', '{"window":600}')).toThrow(/by kind/);
    expect(() => planRuns('ZSCORE', '{nope')).toThrow(/not JSON/);
    expect(() => planRuns('ZSCORE', '[1]')).toThrow(/object/);
  });

  it('selects every other file for out-of-sample checks', () => {
    const files = ['a', 'b', 'c', 'd', 'e'];
    expect(selectFiles(files, 'all')).toEqual(files);
    expect(selectFiles(files, 'odd')).toEqual(['a', 'c', 'e']);
    expect(selectFiles(files, 'even')).toEqual(['b', 'd']);
    expect(parseFileSelection('EVEN')).toBe('even');
    expect(() => parseFileSelection('half')).toThrow(/--files/);
  });

  it('refuses bad usage with exit code 2', async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (m: string) => void errors.push(m);
    try {
      expect(await benchCommand([])).toBe(2);
      expect(await benchCommand(['other'])).toBe(2);
      expect(await benchCommand(['nab', '--bogus'])).toBe(2);
      expect(await benchCommand(['nab', '--detector', 'FRESHNESS'])).toBe(2);
      expect(await benchCommand(['nab', '--files', 'half'])).toBe(2);
    } finally {
      console.error = original;
    }
    expect(errors.join('\n')).toMatch(/Usage: vigil bench nab/);
  });

  it('lays out tables', () => {
    expect(table([['a', 'bb', 'c'], ['ccc', 'd', 'eeee']], 'lrl')).toEqual(['a    bb  c', 'ccc   d  eeee']);
    expect(thousands(1234567.8)).toBe('1,234,568');
  });

  describe('on a small corpus in NAB layout', () => {
    let dir = '';
    let out = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'nab-bench-'));
      out = join(dir, 'out');
      const windows: Record<string, [string, string][]> = {};
      for (const [category, count] of [['catA', 2], ['catB', 1]] as const) {
        await mkdir(join(dir, 'data', category), { recursive: true });
        for (let f = 0; f < count; f++) {
          const lines = ['timestamp,value'];
          const base = Date.UTC(2014, 0, 1);
          const stamp = (i: number) => new Date(base + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');
          for (let i = 0; i < 400; i++) lines.push(`${stamp(i)},${i >= 250 && i < 255 ? 500 : 10 + Math.sin(i / 5) + ((i * 7919) % 13) / 13}`);
          await writeFile(join(dir, 'data', category, `s${f}.csv`), `${lines.join('\n')}\n`);
          windows[`${category}/s${f}.csv`] = f === 1 ? [] : [[`${stamp(240)}.000000`, `${stamp(269)}.000000`]];
        }
      }
      await mkdir(join(dir, 'labels'));
      await writeFile(join(dir, 'labels', 'combined_windows.json'), JSON.stringify(windows));
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('loads it: files in category order, windows as rows, min and max', async () => {
      const c = await loadCorpus(dir, NAB_PROFILES);
      expect(c.files.map((f) => f.name)).toEqual(['catA/s0.csv', 'catA/s1.csv', 'catB/s0.csv']);
      expect(c.files[0]?.windows).toEqual([{ start: 240, end: 269 }]);
      expect(c.files[1]?.windows).toEqual([]);
      expect(c.files[0]?.max).toBe(500);
      expect({ rows: c.rows, windows: c.windows }).toEqual({ rows: 1200, windows: 2 });
      expect(c.profiles).toEqual(NAB_PROFILES); // no config/profiles.json: NAB's three
    });

    it('runs, prints the report, writes per-row scores that rescore to the same figures', async () => {
      let printed = '';
      const progress: string[] = [];
      const code = await benchNab({
        dir,
        plan: planRuns('all', undefined),
        out,
        print: (t) => (printed += t),
        progress: (t, final) => void (final && progress.push(t)),
      });
      expect(code).toBe(0);
      expect(printed).toMatch(/3 files, 1,200 rows, 2 windows/);
      for (const kind of ['ZSCORE', 'MAD', 'EWMA', 'SEASONAL', 'THRESHOLD', 'ENSEMBLE']) expect(printed).toContain(`vigil ${kind}`);
      expect(printed).toMatch(/Per category/);
      expect(printed).toMatch(/catB\s+1\s+1/);
      expect(progress.some((l) => /ZSCORE done/.test(l))).toBe(true);

      const written = await readFile(join(out, 'zscore', 'catA', 'zscore_s0.csv'), 'utf8');
      expect(written.split('\n')[0]).toBe('timestamp,value,anomaly_score');
      expect(written.trim().split('\n')).toHaveLength(401);

      const c = await loadCorpus(dir, NAB_PROFILES);
      const scores = await loadResultScores(out, 'zscore', c.files);
      const rescored = scoreDetector(
        c.files.map((f, i) => ({ name: f.name, scores: scores![i]!, windows: f.windows })),
        c.profiles,
      );
      const run = runDetector('ZSCORE', {}, c.files, c.profiles);
      expect(rescored.map((r) => r.normalised)).toEqual(run.results.map((r) => r.normalised));
      // The spikes (rows 250-254, inside the windows 240-269) are found in both files with windows.
      expect(run.results[0]?.detected).toBe(2);
      expect(run.results[0]?.normalised).toBeGreaterThan(50);
    });

    it('runs on every other file only, and says so', async () => {
      let printed = '';
      const code = await benchNab({ dir, plan: planRuns('ZSCORE', undefined), files: 'even', print: (t) => (printed += t), progress: () => {} });
      expect(code).toBe(0);
      // The second file of three: catA/s1.csv, 400 rows, no window.
      expect(printed).toMatch(/\(even files only\): 1 files, 400 rows, 0 windows/);
      expect(printed).toMatch(/catA\s+1\s+0/);
      expect(printed).not.toMatch(/catB/);
    });

    it('fails clearly on a corpus whose labels miss a file', async () => {
      const bad = await mkdtemp(join(tmpdir(), 'nab-bad-'));
      try {
        await mkdir(join(bad, 'data', 'c'), { recursive: true });
        await mkdir(join(bad, 'labels'));
        await writeFile(join(bad, 'data', 'c', 'x.csv'), 'timestamp,value\n2014-01-01 00:00:00,1\n');
        await writeFile(join(bad, 'labels', 'combined_windows.json'), '{}');
        await expect(loadCorpus(bad, NAB_PROFILES)).rejects.toThrow(/c\/x\.csv: no entry/);
      } finally {
        await rm(bad, { recursive: true, force: true });
      }
    });
  });
});
