import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/store/migrate.ts';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { ensureKafkaBroker } from '../../dev/kafka-broker.ts';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS } from './env.ts';

/**
 * Once per `npm test`: the broker is up, and the test database is created
 * afresh from the migrations (so every run starts from a clean slate and
 * proves the migrations apply to an empty database).
 */
export default async function setup(): Promise<() => void> {
  await ensureKafkaBroker({ projectRoot: PROJECT_ROOT, brokers: TEST_KAFKA_BROKERS, log: (m) => console.log(`[kafka] ${m}`) });
  await dropDatabase(TEST_DATABASE_URL);
  await migrate(TEST_DATABASE_URL, join(PROJECT_ROOT, 'prisma', 'migrations'));
  return verifyAuditChain;
}

/**
 * After the whole run, every probe of test/security/ included, the audit
 * chain of the shared test database must still verify, as an operator
 * would check it: a failure here fails `npm test`.
 */
function verifyAuditChain(): void {
  const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'vigil.mjs'), 'audit', 'verify'], {
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  console.log(`[audit] ${result.stdout.trim()}`);
  if (result.status !== 0) throw new Error(`the test database's audit chain does not verify after the run:\n${result.stdout}${result.stderr}`);
}

async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
