import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticCorpus } from '../bench/nab/loader.ts';
import { generateCorpus } from '../bench/nab/synthetic.ts';

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

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, out: { type: 'string' } } });
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || values.out === undefined) {
    console.error(USAGE);
    return 2;
  }
  const files = generateCorpus(seed);
  const dir = resolve(values.out);
  await writeSyntheticCorpus(dir, files);
  const rows = files.reduce((a, f) => a + f.values.length, 0);
  const windows = files.reduce((a, f) => a + f.windows.length, 0);
  console.log(`${dir}: ${files.length} files, ${rows} rows, ${windows} windows (seed ${seed})`);
  return 0;
}

process.exitCode = await main();
