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
  /** Kind of anomaly of each file, in corpus order, when the corpus labels them (anomaly_kinds.json). */
  kinds?: readonly (string | undefined)[];
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

/**
 * One row per group of files (a category, or a kind of anomaly), one column
 * per detector, each scored within the group at the corpus-wide thresholds.
 * `found`: show "found/windows FP n score" for the standard profile instead
 * of the three profiles' scores.
 */
function breakdown(input: ReportInput, groupOf: readonly string[], title: string, found: boolean): string[] {
  const { profiles } = input;
  const rows: string[][] = [[title, 'files', 'windows', ...input.runs.map((r) => r.label ?? r.kind)]];
  for (const group of [...new Set(groupOf)]) {
    const index = groupOf.flatMap((c, i) => (c === group ? [i] : []));
    const first = input.runs[0]?.results[0];
    const windows = first ? index.reduce((a, i) => a + (first.files[i]?.windows ?? 0), 0) : 0;
    const cells = input.runs.map((run) => {
      const parts = profiles.map((p, q) => {
        const r = run.results[q];
        if (!r) return undefined;
        return summarise(p, r.threshold, index.map((i) => r.files[i]).filter((f) => f !== undefined));
      });
      if (windows === 0) return `FP ${parts[0]?.falsePositives ?? '-'}`;
      if (found) return `${parts[0]?.detected ?? '-'}/${windows} FP ${parts[0]?.falsePositives ?? '-'}  ${num(parts[0]?.normalised, 1)}`;
      return parts.map((s) => num(s?.normalised, 1)).join(' / ');
    });
    rows.push([group, String(index.length), String(windows), ...cells]);
  }
  return table(rows);
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
      label: `vigil ${run.label ?? run.kind}`,
      scores: profiles.map((_, q) => run.results[q]?.normalised),
      rate: thousands(run.eventsPerSecond),
      note: run.label === undefined ? 'this run' : `this run, params ${JSON.stringify(run.params)}`,
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
          run.label ?? run.kind,
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

    out.push('');
    out.push(
      `Per category (${profiles.map((p) => shortName(p.name)).join(' / ')}), normalised within the category at the corpus thresholds; ` +
        'a category without windows shows its false positives (standard profile).',
    );
    out.push(...breakdown(input, input.categories, 'category', false));
    const kinds = input.kinds;
    if (kinds !== undefined && kinds.some((k) => k !== undefined)) {
      out.push('');
      out.push(
        'Per kind of anomaly (labels/anomaly_kinds.json): windows found of the windows of that kind, and the standard score within ' +
          'the kind, at the corpus thresholds (standard profile); a kind without windows shows its false positives.',
      );
      out.push(...breakdown(input, kinds.map((k) => k ?? '(unlabelled)'), 'kind', true));
    }
  }
  out.push('');
  out.push(`Wall time ${input.wallSeconds.toFixed(1)} s (loading, detectors, threshold sweeps).`);
  return `${out.join('\n')}\n`;
}
