import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SyntheticFile } from './synthetic.ts';
import { NabScoringError, parseProfiles, windowsFromTimestamps, type Profile, type RowWindow } from './scorer.ts';

/**
 * Reading a corpus in NAB's layout (DIR/data/<category>/*.csv with header
 * timestamp,value; DIR/labels/combined_windows.json; optionally DIR/labels/anomaly_kinds.json,
 * file -> kind of anomaly; DIR/config/profiles.json;
 * DIR/results/final_results.json and DIR/results/<detector>/<category>/<detector>_<file>.csv)
 * and writing per-row scores in NAB's results layout. CSV here means NAB's
 * plain files: one header line, comma-separated, no quoting.
 */

export interface NabFile {
  /** "<category>/<file>.csv", the key in combined_windows.json. */
  name: string;
  category: string;
  /** File name, e.g. "nyc_taxi.csv". */
  file: string;
  /** As written in the CSV (NAB's "YYYY-MM-DD HH:MM:SS"). */
  timestamps: string[];
  /** Epoch ms of each timestamp read as UTC (NaN when unparseable). */
  times: Float64Array;
  values: Float64Array;
  /** The file's min and max value: the one per-file fact NAB lets a detector know in advance. */
  min: number;
  max: number;
  windows: RowWindow[];
  /** The kind of anomaly the file holds, from DIR/labels/anomaly_kinds.json when the corpus has one (synthetic corpora do). */
  kind?: string;
}

export interface NabCorpus {
  dir: string;
  files: NabFile[];
  rows: number;
  windows: number;
  profiles: Profile[];
}

/** The default corpus directory: $NAB_DIR, else ../shared/nab from the working directory. */
export function defaultNabDir(): string {
  return process.env.NAB_DIR ?? join(process.cwd(), '..', 'shared', 'nab');
}

/** Splits a CSV text into lines (LF or CRLF), dropping a trailing empty line. */
function lines(text: string): string[] {
  const out = text.split(/\r?\n/);
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/** Parses NAB's timestamps ("YYYY-MM-DD HH:MM:SS[.ffffff]") as UTC epoch ms. */
export function parseNabTime(timestamp: string): number {
  return Date.parse(`${timestamp.slice(0, 19).replace(' ', 'T')}Z`);
}

/** A data CSV: header `timestamp,value`, then one row per line. Throws on anything else. */
export function parseDataCsv(name: string, text: string): { timestamps: string[]; values: Float64Array } {
  const rows = lines(text);
  const header = rows[0]?.trim();
  if (header !== 'timestamp,value') throw new NabScoringError(`${name}: expected the header "timestamp,value" (got ${JSON.stringify(header)})`);
  const timestamps: string[] = [];
  const values = new Float64Array(rows.length - 1);
  for (let r = 1; r < rows.length; r++) {
    const line = rows[r] as string;
    const comma = line.indexOf(',');
    const value = comma < 0 ? Number.NaN : Number(line.slice(comma + 1));
    if (comma < 0 || line.slice(comma + 1).trim() === '' || !Number.isFinite(value)) {
      throw new NabScoringError(`${name}: line ${r + 1} is not "timestamp,value" with a finite value: ${JSON.stringify(line)}`);
    }
    timestamps.push(line.slice(0, comma));
    values[r - 1] = value;
  }
  return { timestamps, values };
}

/** A results CSV: the column named anomaly_score (any other columns are ignored). Throws on a missing column or a non-numeric score. */
export function parseScoreCsv(name: string, text: string): Float64Array {
  const rows = lines(text);
  const header = (rows[0] ?? '').split(',').map((h) => h.trim());
  const column = header.indexOf('anomaly_score');
  if (column < 0) throw new NabScoringError(`${name}: no anomaly_score column (header ${JSON.stringify(rows[0] ?? '')})`);
  const scores = new Float64Array(rows.length - 1);
  for (let r = 1; r < rows.length; r++) {
    const cell = (rows[r] as string).split(',')[column];
    const score = cell === undefined || cell.trim() === '' ? Number.NaN : Number(cell);
    if (!Number.isFinite(score)) throw new NabScoringError(`${name}: line ${r + 1} has no numeric anomaly_score: ${JSON.stringify(rows[r])}`);
    scores[r - 1] = score;
  }
  return scores;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    throw new NabScoringError(`${path}: ${(error as Error).message}`);
  }
}

/**
 * Reads the corpus at `dir`: every DIR/data/<category>/*.csv (sorted by
 * category, then file), its windows from DIR/labels/combined_windows.json
 * (matched to rows as the scorer's rules say) and the profiles from
 * DIR/config/profiles.json (NAB's three if that file is absent). Every data
 * file must have an entry in combined_windows.json and vice versa.
 */
export async function loadCorpus(dir: string, fallbackProfiles: readonly Profile[]): Promise<NabCorpus> {
  const dataDir = join(dir, 'data');
  if (!existsSync(dataDir)) throw new NabScoringError(`${dir}: no data/ directory (expected NAB's layout: data/<category>/*.csv, labels/combined_windows.json)`);
  const labels = (await readJson(join(dir, 'labels', 'combined_windows.json'))) as Record<string, unknown>;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw new NabScoringError(`${dir}/labels/combined_windows.json: expected an object of file -> [[start, end], ...]`);
  }
  const kindsPath = join(dir, 'labels', 'anomaly_kinds.json');
  const kinds = existsSync(kindsPath) ? ((await readJson(kindsPath)) as Record<string, unknown>) : {};
  const profilesPath = join(dir, 'config', 'profiles.json');
  const profiles = existsSync(profilesPath) ? parseProfiles(await readJson(profilesPath)) : [...fallbackProfiles];

  const categories = (await readdir(dataDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const files: NabFile[] = [];
  for (const category of categories) {
    const names = (await readdir(join(dataDir, category))).filter((f) => f.endsWith('.csv')).sort();
    for (const file of names) {
      const name = `${category}/${file}`;
      const bounds = labels[name];
      if (!Array.isArray(bounds)) throw new NabScoringError(`${name}: no entry in labels/combined_windows.json`);
      for (const b of bounds) {
        if (!Array.isArray(b) || b.length !== 2 || typeof b[0] !== 'string' || typeof b[1] !== 'string') {
          throw new NabScoringError(`${name}: a window in combined_windows.json is not [start, end] timestamps: ${JSON.stringify(b)}`);
        }
      }
      const { timestamps, values } = parseDataCsv(name, await readFile(join(dataDir, category, file), 'utf8'));
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const v of values) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const times = new Float64Array(timestamps.length);
      for (let i = 0; i < timestamps.length; i++) times[i] = parseNabTime(timestamps[i] as string);
      const windows = windowsFromTimestamps(name, timestamps, bounds as [string, string][]);
      const kind = kinds[name];
      files.push({ name, category, file, timestamps, times, values, min, max, windows, ...(typeof kind === 'string' ? { kind } : {}) });
    }
  }
  const missing = Object.keys(labels).filter((k) => !files.some((f) => f.name === k));
  if (missing.length > 0) throw new NabScoringError(`combined_windows.json names files not under data/: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  if (files.length === 0) throw new NabScoringError(`${dataDir}: no CSV files under data/<category>/`);
  return {
    dir,
    files,
    rows: files.reduce((a, f) => a + f.values.length, 0),
    windows: files.reduce((a, f) => a + f.windows.length, 0),
    profiles,
  };
}

/** Where NAB keeps a detector's scores for a file: RESULTS/<detector>/<category>/<detector>_<file>. */
export function resultPath(resultsDir: string, detector: string, file: Pick<NabFile, 'category' | 'file'>): string {
  return join(resultsDir, detector, file.category, `${detector}_${file.file}`);
}

/**
 * Reads a detector's published per-row scores (DIR/results/<detector>/...),
 * one array per corpus file, in the corpus's order; null when that
 * detector's folder is absent. Throws when a file is missing or its row
 * count differs from the data's.
 */
export async function loadResultScores(resultsDir: string, detector: string, files: readonly NabFile[]): Promise<Float64Array[] | null> {
  if (!existsSync(join(resultsDir, detector))) return null;
  const out: Float64Array[] = [];
  for (const f of files) {
    const path = resultPath(resultsDir, detector, f);
    const scores = parseScoreCsv(path, await readFile(path, 'utf8'));
    if (scores.length !== f.values.length) {
      throw new NabScoringError(`${path}: ${scores.length} scores for ${f.values.length} data rows`);
    }
    out.push(scores);
  }
  return out;
}

/** Published normalised scores per detector and profile (results/final_results.json); null when absent. */
export async function loadFinalResults(resultsDir: string): Promise<Record<string, Record<string, number>> | null> {
  const path = join(resultsDir, 'final_results.json');
  if (!existsSync(path)) return null;
  const json = await readJson(path);
  if (typeof json !== 'object' || json === null) throw new NabScoringError(`${path}: expected an object`);
  return json as Record<string, Record<string, number>>;
}

/**
 * Writes one file's per-row scores in NAB's results layout
 * (OUT/<detector>/<category>/<detector>_<file>.csv, columns
 * timestamp,value,anomaly_score, rows in data order).
 */
export async function writeResultScores(outDir: string, detector: string, file: NabFile, scores: ArrayLike<number>): Promise<string> {
  const path = resultPath(outDir, detector, file);
  await mkdir(dirname(path), { recursive: true });
  const parts: string[] = ['timestamp,value,anomaly_score'];
  for (let i = 0; i < scores.length; i++) parts.push(`${file.timestamps[i]},${file.values[i]},${scores[i]}`);
  await writeFile(path, `${parts.join('\n')}\n`);
  return basename(path);
}

/**
 * Writes a synthetic corpus (synthetic.ts) in NAB's layout: DIR/data/<category>/<kind>.csv,
 * DIR/labels/combined_windows.json and DIR/labels/anomaly_kinds.json.
 */
export async function writeSyntheticCorpus(dir: string, files: readonly SyntheticFile[]): Promise<void> {
  const windows: Record<string, [string, string][]> = {};
  const kinds: Record<string, string> = {};
  for (const f of files) {
    await mkdir(join(dir, 'data', f.category), { recursive: true });
    const lines = ['timestamp,value', ...f.values.map((v, i) => `${f.timestamps[i]},${v}`)];
    await writeFile(join(dir, 'data', f.name), `${lines.join('\n')}\n`);
    windows[f.name] = f.windows.map(([a, b]) => [`${f.timestamps[a]}.000000`, `${f.timestamps[b]}.000000`]);
    kinds[f.name] = f.kind;
  }
  await mkdir(join(dir, 'labels'), { recursive: true });
  await writeFile(join(dir, 'labels', 'combined_windows.json'), `${JSON.stringify(windows, null, 2)}\n`);
  await writeFile(join(dir, 'labels', 'anomaly_kinds.json'), `${JSON.stringify(kinds, null, 2)}\n`);
}
