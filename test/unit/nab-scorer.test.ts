import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCorpus, loadResultScores, type NabCorpus } from '../../bench/nab/loader.ts';
import {
  checkWindows,
  falsePositiveValue,
  NAB_PROFILES,
  NabScoringError,
  normalise,
  parseProfiles,
  probationRows,
  scaledSigmoid,
  scoreCorpus,
  scoreFile,
  truePositiveValue,
  windowsFromTimestamps,
  type Profile,
  type RowWindow,
  type ScoredSeries,
} from '../../bench/nab/scorer.ts';
import { scoreDetector, sweepRows, sweepThresholds } from '../../bench/nab/sweep.ts';
import { mulberry32 } from '../support/seeded-events.ts';

const [STANDARD, LOW_FP, LOW_FN] = NAB_PROFILES as [Profile, Profile, Profile];
const W = STANDARD.weights;


/** A 100-row file (probation 15) with the given windows and detections (score 1) at `hits`. */
function file(windows: RowWindow[], hits: number[], n = 100): ScoredSeries {
  const scores = new Float64Array(n);
  for (const h of hits) scores[h] = 1;
  return { name: 'test.csv', scores, windows };
}

describe('NAB scorer: the pieces', () => {
  it('scaled sigmoid: 2/(1+e^5x) - 1 = -tanh(5x/2), and -1 beyond x = 3', () => {
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(-1)).toBeCloseTo(Math.tanh(2.5), 14);
    expect(scaledSigmoid(0.5)).toBeCloseTo(-Math.tanh(1.25), 14);
    expect(scaledSigmoid(3)).toBeCloseTo(-Math.tanh(7.5), 14);
    expect(scaledSigmoid(3.0001)).toBe(-1);
  });

  it('probation: min(floor(0.15 N), 750)', () => {
    expect(probationRows(100)).toBe(15);
    expect(probationRows(1127)).toBe(169);
    expect(probationRows(5000)).toBe(750);
    expect(probationRows(22695)).toBe(750);
    expect(probationRows(6)).toBe(0);
  });

  it('true positive worth: 1 at the first row, f(-1/w)/f(-1) at the last', () => {
    const w = { start: 40, end: 49 };
    expect(truePositiveValue(40, w)).toBeCloseTo(1, 14);
    expect(truePositiveValue(45, w)).toBeCloseTo(Math.tanh(1.25) / Math.tanh(2.5), 14);
    expect(truePositiveValue(49, w)).toBeCloseTo(Math.tanh(0.25) / Math.tanh(2.5), 14);
  });

  it('false positive cost: -1 before any window ends; f((i - e)/(w - 1)) after', () => {
    const w = { start: 40, end: 49 };
    expect(falsePositiveValue(20, undefined)).toBe(-1);
    expect(falsePositiveValue(54, w)).toBeCloseTo(-Math.tanh(2.5 * (5 / 9)), 14);
    expect(falsePositiveValue(49 + 28, w)).toBe(-1); // x = 28/9 > 3
    expect(falsePositiveValue(60, { start: 50, end: 50 })).toBe(-1); // one-row window: x = infinity
  });

  it('windows from timestamps: the first row equal to the boundary first 19 characters', () => {
    const ts = ['2014-01-01 00:00:00', '2014-01-01 00:05:00', '2014-01-01 00:05:00', '2014-01-01 00:10:00', '2014-01-01 00:00:00'];
    expect(windowsFromTimestamps('f', ts, [['2014-01-01 00:05:00.000000', '2014-01-01 00:10:00.000000']])).toEqual([{ start: 1, end: 3 }]);
    // A boundary that repeats later (time stepping back) still matches its first row.
    expect(windowsFromTimestamps('f', ts, [['2014-01-01 00:00:00.000000', '2014-01-01 00:05:00.000000']])).toEqual([{ start: 0, end: 1 }]);
    expect(() => windowsFromTimestamps('f', ts, [['2014-01-01 00:01:00.000000', '2014-01-01 00:10:00.000000']])).toThrow(NabScoringError);
    expect(() => windowsFromTimestamps('f', ts, [['2014-01-01 00:10:00.000000', '2014-01-01 00:05:00.000000']])).toThrow(/ordered/);
    expect(() => checkWindows('f', [{ start: 1, end: 5 }, { start: 5, end: 7 }], 10)).toThrow(/overlap/);
  });

  it('normalise: 100 (S - null) / (perfect - null)', () => {
    expect(normalise(-116, 116, STANDARD.weights)).toBe(0);
    expect(normalise(116, 116, STANDARD.weights)).toBe(100);
    expect(normalise(-232, 116, LOW_FN.weights)).toBe(0);
    expect(normalise(0, 116, LOW_FN.weights)).toBeCloseTo((100 * 232) / 348, 12);
    expect(normalise(0, 0, STANDARD.weights)).toBeNaN();
  });

  it('profiles from profiles.json text', () => {
    const text = {
      standard: { CostMatrix: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.11, tnWeight: 1.0 } },
      reward_low_FP_rate: { CostMatrix: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.22, tnWeight: 1.0 } },
      reward_low_FN_rate: { CostMatrix: { tpWeight: 1.0, fnWeight: 2.0, fpWeight: 0.11, tnWeight: 1.0 } },
    };
    expect(parseProfiles(text)).toEqual(NAB_PROFILES);
    expect(() => parseProfiles({ x: { CostMatrix: { tpWeight: 1 } } })).toThrow(/fpWeight/);
  });
});

describe('NAB scorer: hand-computed files', () => {
  const win = { start: 40, end: 49 };

  it('no detections: -A_FN per window', () => {
    expect(scoreFile(file([win], []), 0.5, W).raw).toBe(-1);
    expect(scoreFile(file([win, { start: 70, end: 79 }], []), 0.5, LOW_FN.weights).raw).toBe(-4);
    expect(scoreFile(file([], []), 0.5, W).raw).toBe(0);
  });

  it('a detection at a window first row scores A_TP; later ones in it count for nothing', () => {
    const s = scoreFile(file([win], [40, 41, 49]), 0.5, W);
    expect(s.raw).toBeCloseTo(1, 14);
    expect(s).toMatchObject({ detected: 1, missed: 0, falsePositives: 0, detections: 3 });
  });

  it('the earliest detection in a window is the one that counts', () => {
    expect(scoreFile(file([win], [45, 41]), 0.5, W).raw).toBeCloseTo(Math.tanh(2.5 * 0.9) / Math.tanh(2.5), 14);
  });

  it('false positives: before any window -A_FP; after a window A_FP f(x); every one counts', () => {
    // Row 20 (no window ended yet): -0.11. Row 54, 5 rows after a 10-row window: 0.11 f(5/9). Window missed: -1.
    const s = scoreFile(file([win], [20, 54]), 0.5, W);
    expect(s.raw).toBeCloseTo(-0.11 - 0.11 * Math.tanh(2.5 * (5 / 9)) - 1, 14);
    expect(s).toMatchObject({ detected: 0, missed: 1, falsePositives: 2 });
    // Same under low FP: twice the cost.
    expect(scoreFile(file([win], [20, 54]), 0.5, LOW_FP.weights).raw).toBeCloseTo(-0.22 - 0.22 * Math.tanh(2.5 * (5 / 9)) - 1, 14);
    // Far after the window (x > 3) a false positive costs the full A_FP.
    expect(scoreFile(file([win], [40, 90]), 0.5, W).raw).toBeCloseTo(1 - 0.11, 14);
  });

  it('the last window that ended before the row sets the cost', () => {
    // Windows 20..24 (w 5) and 40..49 (w 10); a detection at row 30 is 6 rows after the first: x = 6/4 = 1.5.
    const s = scoreFile(file([{ start: 20, end: 24 }, win], [30, 40]), 0.5, W);
    expect(s.raw).toBeCloseTo(-1 + 0.11 * -Math.tanh(2.5 * 1.5) + 1, 14);
  });

  it('probation rows are never detections, even inside a window', () => {
    // 100 rows: probation 15. A detection at row 10 (inside window 5..20) does not count; one at 16 does.
    const w = { start: 5, end: 20 };
    expect(scoreFile(file([w], [3, 10]), 0.5, W).raw).toBe(-1);
    expect(scoreFile(file([w], [16]), 0.5, W).raw).toBeCloseTo(truePositiveValue(16, w), 14);
  });

  it('a detection is score >= threshold', () => {
    const scores = new Float64Array(100);
    scores[40] = 0.7;
    const f = { name: 'f', scores, windows: [win] };
    expect(scoreFile(f, 0.7, W).detected).toBe(1);
    expect(scoreFile(f, 0.7000001, W).detected).toBe(0);
  });

  it('corpus: sum over files, normalised once', () => {
    const files = [file([win], [40]), file([win], []), file([], [50])];
    const c = scoreCorpus(files, 0.5, STANDARD);
    expect(c.raw).toBeCloseTo(1 - 1 - 0.11, 14);
    expect(c.normalised).toBeCloseTo((100 * (c.raw + 2)) / 4, 12);
    expect(c).toMatchObject({ windows: 2, detected: 1, falsePositives: 1, nullRaw: -2, perfectRaw: 2 });
  });
});

describe('NAB scorer: the threshold sweep', () => {
  it('no detections when every threshold costs; higher t on a tie', () => {
    // Only false positives: nothing beats no detections, so t = Infinity.
    const [choice] = sweepThresholds(sweepRows([file([], [20, 30])]), [STANDARD]);
    expect(choice).toMatchObject({ threshold: Number.POSITIVE_INFINITY, raw: 0 });
    // Two scores both catch the window's first row, nothing else: the tie keeps the higher one.
    const scores = new Float64Array(100);
    scores[40] = 0.9;
    scores[41] = 0.8;
    const [tie] = sweepThresholds(sweepRows([{ name: 'f', scores, windows: [{ start: 40, end: 49 }] }]), [STANDARD]);
    expect(tie?.threshold).toBe(0.9);
    expect(tie?.raw).toBeCloseTo(1, 14);
  });

  it('equals a brute-force search over every candidate threshold (random corpora)', () => {
    const rand = mulberry32(7);
    for (let trial = 0; trial < 40; trial++) {
      const files: ScoredSeries[] = [];
      for (let f = 0; f < 4; f++) {
        const n = 60 + Math.floor(rand() * 200);
        const windows: RowWindow[] = [];
        let at = Math.floor(rand() * 40);
        while (at < n - 5 && rand() < 0.7) {
          const w = 1 + Math.floor(rand() * 20);
          if (at + w > n) break;
          windows.push({ start: at, end: at + w - 1 });
          at += w + Math.floor(rand() * 60);
        }
        // Few distinct scores, so ties happen.
        const scores = Float64Array.from({ length: n }, () => Math.floor(rand() * rand() * 12) / 12);
        files.push({ name: `f${f}`, scores, windows });
      }
      const choices = sweepThresholds(sweepRows(files), NAB_PROFILES);
      NAB_PROFILES.forEach((p, q) => {
        const candidates = new Set<number>([Number.POSITIVE_INFINITY]);
        for (const f of files) for (let i = probationRows(f.scores.length); i < f.scores.length; i++) candidates.add(f.scores[i] as number);
        let best = -Infinity;
        let bestT = Number.POSITIVE_INFINITY;
        for (const t of [...candidates].sort((a, b) => b - a)) {
          const raw = scoreCorpus(files, t, p).raw;
          if (raw > best + 1e-9) {
            best = raw;
            bestT = t;
          }
        }
        const choice = choices[q];
        expect(choice?.threshold).toBe(bestT);
        expect(choice?.raw).toBeCloseTo(best, 9);
      });
    }
  });

  it('scoreDetector reports the direct score at the swept threshold', () => {
    const files = [file([{ start: 40, end: 49 }], [40, 60]), file([{ start: 30, end: 39 }], [])];
    const [std] = scoreDetector(files, [STANDARD]);
    expect(std?.threshold).toBe(1);
    expect(std?.raw).toBeCloseTo(1 + 0.11 * falsePositiveValue(60, { start: 40, end: 49 }) - 1, 14);
    expect(std?.files).toHaveLength(2);
  });
});

const NAB_DIR = process.env.NAB_DIR ?? join(process.cwd(), '..', 'shared', 'nab');
const haveNab = existsSync(join(NAB_DIR, 'labels', 'combined_windows.json'));

describe.skipIf(!haveNab)(`NAB scorer on the corpus (${NAB_DIR})`, () => {
  let corpus: NabCorpus | undefined;
  const load = async (): Promise<NabCorpus> => (corpus ??= await loadCorpus(NAB_DIR, NAB_PROFILES));

  it('the corpus: 58 files, 365,558 rows, 116 windows, the three profiles', async () => {
    const c = await load();
    expect({ files: c.files.length, rows: c.rows, windows: c.windows }).toEqual({ files: 58, rows: 365_558, windows: 116 });
    expect(c.profiles).toEqual(NAB_PROFILES);
  });

  it('no detections: raw -116 / -116 / -232, normalised 0', async () => {
    const c = await load();
    const series = c.files.map((f) => ({ name: f.name, scores: new Float64Array(f.values.length), windows: f.windows }));
    const direct = c.profiles.map((p) => scoreCorpus(series, 0.5, p));
    expect(direct.map((r) => r.raw)).toEqual([-116, -116, -232]);
    expect(direct.map((r) => r.normalised)).toEqual([0, 0, 0]);
    // All scores 0: the sweep's only candidate (t = 0) flags every row, so it keeps "no detections".
    const swept = scoreDetector(series, c.profiles);
    expect(swept.map((r) => [r.threshold, r.normalised])).toEqual([
      [Infinity, 0],
      [Infinity, 0],
      [Infinity, 0],
    ]);
  });

  it("firing only on each window's first row gives 100", async () => {
    const c = await load();
    const series = c.files.map((f) => {
      const scores = new Float64Array(f.values.length);
      for (const w of f.windows) scores[w.start] = 1;
      return { name: f.name, scores, windows: f.windows };
    });
    const results = scoreDetector(series, c.profiles);
    expect(results.map((r) => r.normalised.toFixed(10))).toEqual(['100.0000000000', '100.0000000000', '100.0000000000']);
    expect(results.map((r) => r.raw.toFixed(10))).toEqual(['116.0000000000', '116.0000000000', '116.0000000000']);
  });

  it.each([
    ['numenta', ['70.10', '63.21', '74.32']],
    ['windowedGaussian', ['39.65', '20.87', '47.41']],
  ])('the published %s results score %j', async (detector, expected) => {
    const c = await load();
    const scores = await loadResultScores(join(NAB_DIR, 'results'), detector, c.files);
    expect(scores).not.toBeNull();
    const series = c.files.map((f, i) => ({ name: f.name, scores: scores![i]!, windows: f.windows }));
    const results = scoreDetector(series, c.profiles);
    expect(results.map((r) => r.normalised.toFixed(2))).toEqual(expected);
    // The sweep's running sums agree with the direct recomputation.
    const swept = sweepThresholds(sweepRows(series), c.profiles);
    swept.forEach((s, q) => expect(s.raw).toBeCloseTo(results[q]!.raw, 9));
  });
});
