import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BadUserInputError } from '../../src/core/errors.ts';
import { defaultNabDir, loadCorpus, loadFinalResults, loadResultScores, writeResultScores } from './loader.ts';
import { formatReport, PUBLISHED_DETECTORS, type Rescored } from './report.ts';
import { NAB_DETECTOR_KINDS, runDetector, type DetectorRun, type NabDetectorKind } from './runner.ts';
import { NAB_PROFILES, NabScoringError } from './scorer.ts';
import { scoreDetector } from './sweep.ts';

export const BENCH_USAGE = `Usage: vigil bench nab [--data DIR] [--detector KIND|all] [--params JSON] [--files all|odd|even] [--out DIR]

Runs a corpus in NAB layout (DIR/data/<category>/*.csv, DIR/labels/combined_windows.json)
through Vigil's detectors, one fresh detector per file, one event at a time, and prints
NAB's three normalised scores beside the published ones.

  --data DIR        the corpus (default: $NAB_DIR, else ../shared/nab)
  --detector KIND   ${NAB_DETECTOR_KINDS.join(', ')} or all (default all)
  --params JSON     one parameter set for all files: the detector's params, or with
                    "all" an object by kind, e.g. {"ZSCORE":{"window":600},"EWMA":{"alpha":0.01}}.
                    THRESHOLD's min/max default to each file's min and max;
                    ENSEMBLE's members default to ZSCORE, MAD and EWMA.
                    With one KIND, a JSON list of parameter sets runs each in turn in the
                    same run, e.g. [{},{"channels":["SEASON","FLAT"]}], to compare scores
                    and events per second (time inside the detector) side by side.
  --files WHICH     all (default), or every other file in corpus order (odd: 1st, 3rd, ...;
                    even: 2nd, 4th, ...), for out-of-sample checks: tune on one half,
                    measure on the other
  --out DIR         also write per-row scores: DIR/<detector>/<category>/<detector>_<file>.csv

A corpus with DIR/labels/anomaly_kinds.json (file -> kind of anomaly, as written by
scripts/generate-corpus.ts) is also reported per kind of anomaly.`;

function isKind(name: string): name is NabDetectorKind {
  return (NAB_DETECTOR_KINDS as readonly string[]).includes(name);
}

/** The params of each kind to run, from --detector and --params. Throws BadUserInputError. */
export interface PlannedRun {
  kind: NabDetectorKind;
  params: Record<string, unknown>;
  /** Set when one kind runs with several parameter sets: KIND[1], KIND[2], ... */
  label?: string;
}

export function planRuns(detector: string, paramsJson: string | undefined): PlannedRun[] {
  const wanted = detector.toUpperCase();
  if (wanted !== 'ALL' && !isKind(wanted)) {
    throw new BadUserInputError('--detector', `must be one of ${NAB_DETECTOR_KINDS.join(', ')} or all (got ${JSON.stringify(detector)})`);
  }
  let params: Record<string, unknown> = {};
  if (paramsJson !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(paramsJson);
    } catch (error) {
      throw new BadUserInputError('--params', `is not JSON: ${(error as Error).message}`);
    }
    if (Array.isArray(parsed) && wanted !== 'ALL') {
      return parsed.map((own, i) => {
        if (typeof own !== 'object' || own === null || Array.isArray(own)) {
          throw new BadUserInputError(`--params[${i}]`, 'must be a JSON object');
        }
        return { kind: wanted as NabDetectorKind, params: own as Record<string, unknown>, label: `${wanted}[${i + 1}]` };
      });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new BadUserInputError('--params', 'must be a JSON object');
    }
    params = parsed as Record<string, unknown>;
  }
  const keys = Object.keys(params);
  const byKind = keys.length > 0 && keys.every((k) => isKind(k));
  const kinds: NabDetectorKind[] = wanted === 'ALL' ? [...NAB_DETECTOR_KINDS] : [wanted as NabDetectorKind];
  if (!byKind && keys.length > 0 && kinds.length > 1) {
    throw new BadUserInputError('--params', `with --detector all, give params by kind, e.g. {"ZSCORE":{"window":600}} (got keys ${keys.join(', ')})`);
  }
  return kinds.map((kind) => {
    const own = byKind ? params[kind] : params;
    if (own !== undefined && (typeof own !== 'object' || own === null || Array.isArray(own))) {
      throw new BadUserInputError(`--params.${kind}`, 'must be a JSON object');
    }
    return { kind, params: (own ?? {}) as Record<string, unknown> };
  });
}

export const FILE_SELECTIONS = ['all', 'odd', 'even'] as const;
export type FileSelection = (typeof FILE_SELECTIONS)[number];

/** The --files value, checked. Throws BadUserInputError. */
export function parseFileSelection(value: string): FileSelection {
  const v = value.toLowerCase();
  if (!(FILE_SELECTIONS as readonly string[]).includes(v)) {
    throw new BadUserInputError('--files', `must be one of ${FILE_SELECTIONS.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return v as FileSelection;
}

/** The corpus files a selection keeps (positions counted from 1 in corpus order). */
export function selectFiles<T>(files: readonly T[], which: FileSelection): T[] {
  if (which === 'all') return [...files];
  const keepIndexParity = which === 'odd' ? 0 : 1;
  return files.filter((_, i) => i % 2 === keepIndexParity);
}

/** `vigil bench ...`: returns the exit code (0 done, 2 bad usage, 1 corpus or run failure). */
export async function benchCommand(argv: string[]): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        data: { type: 'string' },
        detector: { type: 'string', default: 'all' },
        params: { type: 'string' },
        out: { type: 'string' },
        files: { type: 'string', default: 'all' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${BENCH_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(BENCH_USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'nab') {
    console.error(`${positionals.length === 0 ? 'which benchmark?' : `unknown benchmark: ${positionals.join(' ')}`}\n\n${BENCH_USAGE}`);
    return 2;
  }
  try {
    return await benchNab({
      dir: resolve(values.data ?? defaultNabDir()),
      plan: planRuns(values.detector ?? 'all', values.params),
      files: parseFileSelection(values.files ?? 'all'),
      out: values.out === undefined ? undefined : resolve(values.out),
    });
  } catch (error) {
    if (error instanceof BadUserInputError || error instanceof NabScoringError) {
      console.error(`bench nab: ${error.message}`);
      return error instanceof BadUserInputError ? 2 : 1;
    }
    throw error;
  }
}

export interface BenchNabOptions {
  dir: string;
  plan: PlannedRun[];
  out?: string | undefined;
  /** Which files of the corpus to run (default all). */
  files?: FileSelection;
  /** Where the report goes (default stdout) and the progress lines (default stderr). */
  print?: (text: string) => void;
  progress?: (text: string, final: boolean) => void;
}

/** Runs the benchmark and prints its report. */
export async function benchNab(options: BenchNabOptions): Promise<number> {
  const started = performance.now();
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  const progress = options.progress ?? defaultProgress();
  progress(`bench nab: loading ${options.dir}`, true);
  const loaded = await loadCorpus(options.dir, NAB_PROFILES);
  const selection = options.files ?? 'all';
  const kept = selectFiles(loaded.files, selection);
  if (kept.length === 0) throw new NabScoringError(`${options.dir}: --files ${selection} leaves no file`);
  const corpus = {
    ...loaded,
    files: kept,
    rows: kept.reduce((a, f) => a + f.values.length, 0),
    windows: kept.reduce((a, f) => a + f.windows.length, 0),
  };
  const resultsDir = `${options.dir}/results`;
  progress(`bench nab: ${selection === 'all' ? '' : `the ${selection} files: `}${corpus.files.length} files, ${corpus.rows.toLocaleString('en-US')} rows, ${corpus.windows} windows`, true);

  const runs: DetectorRun[] = [];
  for (const { kind, params, label } of options.plan) {
    const name = label ?? kind;
    let rows = 0;
    const t0 = performance.now();
    const run = runDetector(kind, params, corpus.files, corpus.profiles, {
      onFile: (done, total, file) => {
        rows += file.values.length;
        progress(`bench nab: ${name} ${done}/${total} files, ${rows.toLocaleString('en-US')} rows, ${file.name}`, false);
      },
    });
    runs.push(label === undefined ? run : { ...run, label });
    if (options.out !== undefined) {
      for (let i = 0; i < corpus.files.length; i++) {
        await writeResultScores(options.out, name.toLowerCase(), corpus.files[i]!, run.scores[i]!);
      }
    }
    progress(
      `bench nab: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
        `${run.results.map((r) => r.normalised.toFixed(2)).join(' / ')}, ${Math.round(run.eventsPerSecond).toLocaleString('en-US')} events/s` +
        (options.out !== undefined ? `, scores in ${options.out}/${name.toLowerCase()}` : ''),
      true,
    );
  }

  // The published figures are for the whole corpus; on part of it only the rescored per-row results compare.
  const published = selection === 'all' ? await loadFinalResults(resultsDir) : null;
  const rescored: Rescored[] = [];
  for (const { key } of PUBLISHED_DETECTORS) {
    const scores = await loadResultScores(resultsDir, key, corpus.files);
    if (!scores) continue;
    rescored.push({
      key,
      results: scoreDetector(
        corpus.files.map((f, i) => ({ name: f.name, scores: scores[i]!, windows: f.windows })),
        corpus.profiles,
      ),
    });
  }

  print(
    formatReport({
      dir: options.dir,
      selection,
      files: corpus.files.length,
      rows: corpus.rows,
      windows: corpus.windows,
      profiles: corpus.profiles,
      categories: corpus.files.map((f) => f.category),
      kinds: corpus.files.map((f) => f.kind),
      runs,
      published,
      rescored,
      wallSeconds: (performance.now() - started) / 1000,
    }),
  );
  return 0;
}

/** Progress on stderr: rewritten in place on a terminal; elsewhere only the lines marked final. */
function defaultProgress(): (text: string, final: boolean) => void {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return (text, final) => {
    if (tty) {
      const now = performance.now();
      if (!final && now - last < 100) return;
      last = now;
      const width = process.stderr.columns ?? 100;
      process.stderr.write(`\r\x1b[K${text.slice(0, width - 1)}${final ? '\n' : ''}`);
    } else if (final) {
      process.stderr.write(`${text}\n`);
    }
  };
}
