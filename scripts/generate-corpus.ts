import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCorpus, type SyntheticFile } from '../bench/nab/synthetic.ts';

/**
 * Writes a seeded synthetic corpus in NAB's layout, for `vigil bench nab --data DIR`:
 *
 *   node --import tsx scripts/generate-corpus.ts --seed 2 --out /tmp/vigil-corpus-2
 *
 * DIR/data/<season>_<noise>/<kind>.csv, DIR/labels/combined_windows.json and
 * DIR/labels/anomaly_kinds.json (file -> kind of anomaly, for the per-kind
 * table). The same seed always writes the same files (bench/nab/synthetic.ts).
 */

const USAGE = 'Usage: node --import tsx scripts/generate-corpus.ts --seed N --out DIR';

async function writeCorpus(dir: string, files: readonly SyntheticFile[]): Promise<void> {
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

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, out: { type: 'string' } } });
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || values.out === undefined) {
    console.error(USAGE);
    return 2;
  }
  const files = generateCorpus(seed);
  const dir = resolve(values.out);
  await writeCorpus(dir, files);
  const rows = files.reduce((a, f) => a + f.values.length, 0);
  const windows = files.reduce((a, f) => a + f.windows.length, 0);
  console.log(`${dir}: ${files.length} files, ${rows} rows, ${windows} windows (seed ${seed})`);
  return 0;
}

process.exitCode = await main();
