import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../../src/generated/prisma/client.ts';
import { TEST_DATABASE_URL } from './env.ts';

export interface CountingDb {
  db: PrismaClient;
  /** SQL statements sent since the last reset (BEGIN and COMMIT included). */
  readonly statements: number;
  reset(): void;
  close(): Promise<void>;
}

/** A Prisma client of its own over a pg pool whose every statement is counted, for tests that bound how many a read or write costs. */
export function countingDb(connectionString = TEST_DATABASE_URL): CountingDb {
  let statements = 0;
  const pool = new pg.Pool({ connectionString, max: 4 });
  // Every statement the Prisma client sends goes through a pooled client's query().
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      statements += 1;
      return query(...args);
    };
  });
  const db = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    db,
    get statements() {
      return statements;
    },
    reset: () => {
      statements = 0;
    },
    // Prisma leaves a pool it was given open: a test that then drops its scratch database would see the
    // pool's idle connections terminated, an error nobody listens for.
    close: async () => {
      await db.$disconnect();
      await pool.end();
    },
  };
}
