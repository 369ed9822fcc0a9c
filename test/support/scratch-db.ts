import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/store/migrate.ts';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { TEST_DATABASE_URL, uniqueName } from './env.ts';

/**
 * A database of its own for a test that must own a whole table (the audit
 * chain, the migrations ledger): created fresh, dropped afterwards.
 */
export async function createScratchDatabase(options: { migrate?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('vigil_scratch').replace(/-/g, '_');
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const adminUrl = new URL(TEST_DATABASE_URL);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  if (options.migrate !== false) await migrate(url.toString(), join(PROJECT_ROOT, 'prisma', 'migrations'));
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
