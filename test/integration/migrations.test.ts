import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { createScratchDatabase } from '../support/scratch-db.ts';

const MIGRATIONS = join(PROJECT_ROOT, 'prisma', 'migrations');
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

beforeAll(async () => {
  scratch = await createScratchDatabase({ migrate: false });
});
afterAll(async () => {
  await scratch.drop();
});

describe('migrations', () => {
  it('apply exactly once when several processes start at the same moment', async () => {
    const results = await Promise.all([migrate(scratch.url, MIGRATIONS), migrate(scratch.url, MIGRATIONS), migrate(scratch.url, MIGRATIONS)]);
    const appliedBy = results.filter((r) => r.applied.length > 0);
    expect(appliedBy).toHaveLength(1);
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    const ledger = await client.query('SELECT name FROM "_vigil_migrations"');
    await client.end();
    expect(ledger.rows.map((r) => r.name)).toEqual(appliedBy[0]!.applied);
    expect((await migrate(scratch.url, MIGRATIONS)).applied).toEqual([]);
  });

  it('create every table and column the Prisma client reads', async () => {
    const db = createDb(scratch.url, 2);
    try {
      // Each model's delegate selects every scalar column: a missing or misnamed one fails here.
      const delegates = Object.keys(db).filter((key) => !key.startsWith('$') && !key.startsWith('_'));
      const models = delegates.filter((key) => typeof (db as unknown as Record<string, { findFirst?: unknown }>)[key]?.findFirst === 'function');
      expect(models.length).toBeGreaterThanOrEqual(16);
      for (const model of models) {
        await expect((db as unknown as Record<string, { findFirst(): Promise<unknown> }>)[model]!.findFirst(), model).resolves.toBeNull();
      }
    } finally {
      await db.$disconnect();
    }
  });

  it('create the database itself when it is missing', async () => {
    const url = new URL(scratch.url);
    url.pathname = `${url.pathname}_new`;
    try {
      expect((await migrate(url.toString(), MIGRATIONS)).applied.length).toBeGreaterThan(0);
    } finally {
      const admin = new URL(scratch.url);
      admin.pathname = '/postgres';
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
      await client.end();
    }
  });
});
