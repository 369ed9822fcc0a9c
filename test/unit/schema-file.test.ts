import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { printVigilSchema } from '../../src/schema/index.ts';

describe('schema.graphql', () => {
  it('is the schema the code builds (run `npm run schema:print` after changing src/schema)', () => {
    const committed = readFileSync(join(PROJECT_ROOT, 'schema.graphql'), 'utf8');
    expect(printVigilSchema()).toBe(committed);
  });
});
