import { join } from 'node:path';
import { migrate } from '../../src/migrate.ts';
import { PROJECT_ROOT } from '../../src/paths.ts';
import { ensureKafkaBroker } from '../../src/services/kafka-broker.ts';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS } from './env.ts';

/** Once per `npm test`: the broker is up and the test database is at the latest migration. */
export default async function setup(): Promise<void> {
  await ensureKafkaBroker({ projectRoot: PROJECT_ROOT, brokers: TEST_KAFKA_BROKERS, log: (m) => console.log(`[kafka] ${m}`) });
  await migrate(TEST_DATABASE_URL, join(PROJECT_ROOT, 'prisma', 'migrations'));
}
