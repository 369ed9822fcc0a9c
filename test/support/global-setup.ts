import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/migrate.ts';
import { PROJECT_ROOT } from '../../src/paths.ts';
import { ensureKafkaBroker } from '../../src/services/kafka-broker.ts';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS } from './env.ts';

/**
 * Once per `npm test`: the broker is up, and the test database is created
 * afresh from the migrations (so every run starts from a clean slate and
 * proves the migrations apply to an empty database).
 */
export default async function setup(): Promise<void> {
  await ensureKafkaBroker({ projectRoot: PROJECT_ROOT, brokers: TEST_KAFKA_BROKERS, log: (m) => console.log(`[kafka] ${m}`) });
  await dropDatabase(TEST_DATABASE_URL);
  await migrate(TEST_DATABASE_URL, join(PROJECT_ROOT, 'prisma', 'migrations'));
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
