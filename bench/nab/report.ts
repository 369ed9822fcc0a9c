import { equivalentScore, type DetectorRun } from './runner.ts';
import { summarise, type Profile, type ProfileResult } from './scorer.ts';

/**
 * The printed report of `vigil bench nab`: pure formatting of results
 * (no I/O), so its layout can be tested.
 */

/** The detectors of the NAB README's table, with their keys in results/final_results.json, best first. */
export const PUBLISHED_DETECTORS: readonly { key: string; label: string }[] = [
  { key: 'ARTime', label: 'ARTime (2022)' },
  { key: 'numenta', label: 'Numenta HTM' },
  { key: 'contextOSE', label: 'CAD OSE' },
  { key: 'earthgeckoSkyline', label: 'earthgecko Skyline' },
  { key: 'knncad', label: 'KNN CAD' },
  { key: 'relativeEntropy', label: 'Relative Entropy' },
  { key: 'randomCutForest', label: 'Random Cut Forest' },
  { key: 'twitterADVec', label: 'Twitter ADVec' },
  { key: 'windowedGaussian', label: 'Windowed Gaussian' },
  { key: 'skyline', label: 'Etsy Skyline' },
  { key: 'random', label: 'Random' },
  { key: 'null', label: 'Null' },
];

/** A published detector whose per-row results were found and rescored here. */
export interface Rescored {
  key: string;
  results: ProfileResult[];
}

export interface ReportInput {
  dir: string;
  /** Which files of the corpus ran: 'all', or every other one ('odd', 'even'). */
  selection?: string;
  files: number;
  rows: number;
  windows: number;
  profiles: readonly Profile[];
  /** Category of each file, in corpus order (aligned with each result's `files`). */
  categories: readonly string[];
  runs: readonly DetectorRun[];
  /** results/final_results.json, if present. */
  published: Record<string, Record<string, number>> | null;
  rescored: readonly Rescored[];
  wallSeconds: number;
}

const PROFILE_SHORT: Record<string, string> = {
  standard: 'standard',
  reward_low_FP_rate: 'low FP',
  reward_low_FN_rate: 'low FN',
};

function shortName(profile: string): string {
  return PROFILE_SHORT[profile] ?? profile;
}

/** 1234567.8 -> "1,234,568". */
export function thousands(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.round(x).toLocaleString('en-US');
}

function num(x: number | undefined, digits = 2): string {
  return x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);
}

/**
 * Lays rows out in columns two spaces apart, aligned by `align` (one letter
 * per column, "l" or "r"; columns past its end are right-aligned; default:
 * the first column left, the rest right).
 */
export function table(rows: readonly (readonly string[])[], align = 'l'): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, cell.length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (align[c] === 'l' ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function thresholdText(t: number, theta: number): string {
  if (t === Number.POSITIVE_INFINITY) return 'none';
  const s = equivalentScore(t, theta);
  return `${t.toPrecision(4)} (${s >= 1000 ? s.toExponential(2) : s.toPrecision(3)})`;
}

export function formatReport(input: ReportInput): string {
  const { profiles } = input;
  const out: string[] = [];
  out.push(
    `NAB corpus ${input.dir}${input.selection && input.selection !== 'all' ? ` (${input.selection} files only)` : ''}: ${input.files} files, ${thousands(input.rows)} rows, ${input.windows} windows; ` +
      `profiles ${profiles.map((p) => p.name).join(', ')}.`,
  );
  out.push(
    'Row score = s / (s + theta) (s the verdict score, theta the detector threshold; 0 while warming up); ' +
      'one threshold per detector and profile, swept over the whole corpus.',
  );
  out.push('');

  // Ranking: this run beside the published figures.
  type Line = { label: string; scores: (number | undefined)[]; rate: string; note: string };
  const lines: Line[] = [];
  for (const run of input.runs) {
    lines.push({
      label: `vigil ${run.kind}`,
      scores: profiles.map((_, q) => run.results[q]?.normalised),
      rate: thousands(run.eventsPerSecond),
      note: 'this run',
    });
  }
  if (input.published) {
    for (const d of PUBLISHED_DETECTORS) {
      const entry = input.published[d.key];
      if (!entry) continue;
      const again = input.rescored.find((r) => r.key === d.key);
      lines.push({
        label: `${d.label} [${d.key}]`,
        scores: profiles.map((p) => entry[p.name]),
        rate: '',
        note: again
          ? `published; rescored here from results/${d.key}: ${again.results.map((r) => num(r.normalised)).join(' / ')}`
          : 'published',
      });
    }
  } else {
    // No published figures for these files (e.g. half the corpus): the published per-row results, rescored on them.
    for (const again of input.rescored) {
      const label = PUBLISHED_DETECTORS.find((d) => d.key === again.key)?.label ?? again.key;
      lines.push({
        label: `${label} [${again.key}]`,
        scores: profiles.map((_, q) => again.results[q]?.normalised),
        rate: '',
        note: `rescored here on these files from results/${again.key}`,
      });
    }
  }
  lines.sort((a, b) => (b.scores[0] ?? -Infinity) - (a.scores[0] ?? -Infinity));
  out.push(
    ...table([
      ['detector', ...profiles.map((p) => shortName(p.name)), 'events/s', 'source'],
      ...lines.map((l) => [l.label, ...l.scores.map((s) => num(s)), l.rate, l.note]),
    ], `l${'r'.repeat(profiles.length + 1)}l`),
  );

  if (input.runs.length > 0) {
    out.push('');
    out.push(
      'This run: threshold per profile as row score (detector score); windows found of ' +
        `${input.windows} and false positives (detections outside windows) at it; time in the detectors.`,
    );
    const head = ['detector', ...profiles.map((p) => `t ${shortName(p.name)}`), ...profiles.map((p) => `found/FP ${shortName(p.name)}`), 'events/s', 'time'];
    out.push(
      ...table([
        head,
        ...input.runs.map((run) => [
          run.kind,
          ...profiles.map((_, q) => {
            const r = run.results[q];
            return r ? thresholdText(r.threshold, run.theta) : '-';
          }),
          ...profiles.map((_, q) => {
            const r = run.results[q];
            return r ? `${r.detected}/${r.falsePositives}` : '-';
          }),
          thousands(run.eventsPerSecond),
          `${(run.ms / 1000).toFixed(2)} s`,
        ]),
      ]),
    );

    // Per category, at the corpus-wide thresholds.
    const categories = [...new Set(input.categories)];
    out.push('');
    out.push(
      `Per category (${profiles.map((p) => shortName(p.name)).join(' / ')}), normalised within the category at the corpus thresholds; ` +
        'a category without windows shows its false positives (standard profile).',
    );
    const rows: string[][] = [['category', 'files', 'windows', ...input.runs.map((r) => r.kind)]];
    for (const category of categories) {
      const index = input.categories.flatMap((c, i) => (c === category ? [i] : []));
      const first = input.runs[0]?.results[0];
      const windows = first ? index.reduce((a, i) => a + (first.files[i]?.windows ?? 0), 0) : 0;
      const cells = input.runs.map((run) => {
        const parts = profiles.map((p, q) => {
          const r = run.results[q];
          if (!r) return undefined;
          return summarise(p, r.threshold, index.map((i) => r.files[i]).filter((f) => f !== undefined));
        });
        if (windows === 0) return `FP ${parts[0]?.falsePositives ?? '-'}`;
        return parts.map((s) => num(s?.normalised, 1)).join(' / ');
      });
      rows.push([category, String(index.length), String(windows), ...cells]);
    }
    out.push(...table(rows));
  }

  out.push('');
  out.push(`Wall time ${input.wallSeconds.toFixed(1)} s (loading, detectors, threshold sweeps).`);
  return `${out.join('\n')}\n`;
}
