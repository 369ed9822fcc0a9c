import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import codegenConfig from '../../codegen.ts';
import { PROJECT_ROOT } from '../../src/core/paths.ts';

const GENERATED = 'sdk/generated/index.ts';

/** Runs codegen.ts in memory (saveToFile = false): the checked-in file is compared, never rewritten. */
async function generateInMemory(): Promise<{ filename: string; content: string }[]> {
  return generate({ ...codegenConfig, cwd: PROJECT_ROOT, silent: true }, false);
}

/** Where two texts first differ, as a line number and both lines, for a readable failure. */
function firstDifference(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `first difference at line ${i + 1}:\n  committed: ${a[i] ?? '<end of file>'}\n  generated: ${b[i] ?? '<end of file>'}`;
  }
  return 'the texts are identical';
}

describe('the generated SDK', () => {
  it('is current: codegen over schema.graphql and sdk/operations reproduces sdk/generated/index.ts byte for byte', async () => {
    const outputs = await generateInMemory();
    expect(outputs.map((o) => o.filename)).toEqual([GENERATED]);
    const generated = outputs[0]!.content;
    const committed = await readFile(join(PROJECT_ROOT, GENERATED), 'utf8').catch(() => '');
    expect(
      generated === committed,
      `${GENERATED} is not what codegen.ts generates: run \`npm run sdk:generate\` and commit the result (${firstDifference(committed, generated)})`,
    ).toBe(true);
  });

  it('is deterministic: generating twice gives identical output', async () => {
    const [first, second] = await Promise.all([generateInMemory(), generateInMemory()]);
    expect(first[0]!.content).toBe(second[0]!.content);
  });
});
