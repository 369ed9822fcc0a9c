import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
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
  return async () => {
    verifyAuditChain();
    await deleteTestTopics();
  };
}

/**
 * The topics of the run's streams go once the run is over: the next run starts from a fresh database,
 * and a broker that kept every run's topics (thousands after a day) elected a new topic's leaders so
 * slowly that tests waiting on them timed out.
 */
async function deleteTestTopics(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  let topics: string[];
  try {
    topics = (await client.query<{ topic: string }>('SELECT "topic" FROM "Stream"')).rows.map((row) => row.topic);
  } finally {
    await client.end();
  }
  const admin = new Kafka({ clientId: 'vigil-test-teardown', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const ours = topics.filter((topic) => existing.has(topic));
    for (let i = 0; i < ours.length; i += 100) await admin.deleteTopics({ topics: ours.slice(i, i + 100), timeout: 30_000 });
    console.log(`[kafka] deleted the run's ${ours.length} topics`);
  } finally {
    await admin.disconnect();
  }
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
