// The one-way import rules (.dependency-cruiser.cjs) have teeth: run on a small tree that breaks
// them, the same command `npm run lint:imports` uses names each broken rule and exits non-zero.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/core/paths.ts';

const CONFIG = join(PROJECT_ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(PROJECT_ROOT, 'node_modules', '.bin', 'depcruise');
const trees: string[] = [];

function cruise(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'vigil-imports-'));
  trees.push(root);
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true, noEmit: true, module: 'NodeNext' } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const run = spawnSync(DEPCRUISE, ['src', '--config', CONFIG], { cwd: root, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

afterAll(() => trees.forEach((root) => rmSync(root, { recursive: true, force: true })));

describe('import rules', () => {
  it('accept imports that run downward', () => {
    const result = cruise({
      'src/core/errors.ts': 'export class VigilError extends Error {}\n',
      'src/detectors/zscore.ts': "import { VigilError } from '../core/errors.ts';\nexport const z = VigilError;\n",
      'src/stream/batch.ts': "import { z } from '../detectors/zscore.ts';\nexport const b = z;\n",
      'src/services/streams.ts': "import { b } from '../stream/batch.ts';\nexport const s = b;\n",
    });
    expect(result.output).toMatch(/no dependency violations/);
    expect(result.status).toBe(0);
  });

  it('refuse an upward import, a schema holding the database client and a runtime cycle, naming each rule', () => {
    const result = cruise({
      'src/services/streams.ts': 'export const s = 1;\n',
      'src/detectors/zscore.ts': "import { s } from '../services/streams.ts';\nexport const z = s;\n",
      'src/store/db.ts': 'export const db = {};\n',
      'src/schema/streams.ts': "import { db } from '../store/db.ts';\nexport const t = db;\n",
      'src/stream/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'src/stream/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/detectors-imports-downward: src\/detectors\/zscore\.ts → src\/services\/streams\.ts/);
    expect(result.output).toMatch(/schema-not-database: src\/schema\/streams\.ts → src\/store\/db\.ts/);
    expect(result.output).toMatch(/no-runtime-cycles/);
  });
});
