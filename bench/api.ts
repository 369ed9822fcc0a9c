/**
 * API bench: the console's and the docs' main queries through the real
 * gateway (HTTP, GraphQL, services, Prisma) over a seeded database, each next
 * to one hand-written SQL statement returning the same data, in the same run.
 * Prints per query the SQL statements one request costs and p50/p99 of both.
 *
 *   npm run bench:api
 *
 * Needs PostgreSQL and Redis (`npx vigil services`); Kafka is not used.
 * Settings (environment):
 *   BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/vigil_bench_api): its own database, kept between runs
 *   BENCH_RESEED=1      drop and seed it again (otherwise a database seeded with the same plan is reused)
 *   BENCH_RUNS (50)     timed requests per query and side, after BENCH_WARMUP (5)
 *   BENCH_INCIDENTS (1000), BENCH_ANOMALIES_PER_INCIDENT (20), BENCH_ANOMALIES (1000000), BENCH_AUDIT_ENTRIES (20000)
 * Goal (issue 12): each query within 2x of its SQL, at most 10 statements per page.
 */
import { execFileSync } from 'node:child_process';
import { arch, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../src/core/config.ts';
import { PROJECT_ROOT } from '../src/core/paths.ts';
import { openRuntime, type Runtime } from '../src/app/runtime.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { migrate } from '../src/store/migrate.ts';
import { encodeCursor } from '../src/services/pagination.ts';
import { benchQueries, type BenchQuery } from './api/queries.ts';
import { seed, type SeedPlan } from './api/seed.ts';

function intEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/vigil_bench_api';
const RUNS = intEnv('BENCH_RUNS', 50);
const WARMUP = intEnv('BENCH_WARMUP', 5);
const ADMIN_KEY = `bench-admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
// A fixed end (midnight UTC today) so a reused database keeps the same shape.
const END = Math.floor(Date.now() / 86_400_000) * 86_400_000;
const PLAN: SeedPlan = {
  streams: 10,
  incidents: intEnv('BENCH_INCIDENTS', 1000),
  anomaliesPerIncident: intEnv('BENCH_ANOMALIES_PER_INCIDENT', 20),
  anomalies: intEnv('BENCH_ANOMALIES', 1_000_000),
  auditEntries: intEnv('BENCH_AUDIT_ENTRIES', 20_000),
  days: 30,
  end: END,
};

const started = performance.now();
const progress = (message: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}`);

/**
 * Every statement any pg client of this process sends (Prisma's driver adapter included) passes
 * through Client.prototype.query; requests run one at a time, so the count between two reads is one request's.
 */
let statements = 0;
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  statements++;
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof originalQuery;

async function prepareDatabase(): Promise<{ streamIds: string[]; lineageAnomalyId: string }> {
  const adminUrl = new URL(DATABASE_URL);
  const name = decodeURIComponent(adminUrl.pathname.slice(1));
  adminUrl.pathname = '/postgres';
  const planKey = JSON.stringify(PLAN);
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
    if (exists && process.env.BENCH_RESEED !== '1') {
      const reuse = new pg.Client({ connectionString: DATABASE_URL });
      await reuse.connect();
      try {
        const marker = await reuse.query<{ plan: string; result: { streamIds: string[]; lineageAnomalyId: string } }>(
          `SELECT plan, result FROM "_bench_seed"`,
        ).catch(() => undefined);
        if (marker?.rows[0]?.plan === planKey) {
          progress(`reusing ${name} (seeded with the same plan; BENCH_RESEED=1 seeds again)`);
          return marker.rows[0].result;
        }
      } finally {
        await reuse.end();
      }
    }
    if (exists) await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  await migrate(DATABASE_URL, join(PROJECT_ROOT, 'prisma', 'migrations'));
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const result = await seed(client, PLAN, progress);
    await client.query(`CREATE TABLE "_bench_seed" (plan text, result jsonb)`);
    await client.query(`INSERT INTO "_bench_seed" VALUES ($1, $2)`, [planKey, JSON.stringify(result)]);
    return result;
  } finally {
    await client.end();
  }
}

interface Timing {
  p50: number;
  p99: number;
}

function percentiles(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99) };
}

async function graphqlRequest(url: string, query: BenchQuery): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query: query.graphql, variables: query.variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`${query.name}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function timed(run: () => Promise<unknown>): Promise<Timing & { statements: number }> {
  for (let i = 0; i < WARMUP; i++) await run();
  const samples: number[] = [];
  let fewest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    const before = statements;
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
    // The fewest seen: a background statement of the runtime (a health probe) may land inside one request.
    fewest = Math.min(fewest, statements - before);
  }
  return { ...percentiles(samples), statements: fewest };
}

function commitOf(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'prisma'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${sha} + uncommitted changes in src/ or prisma/` : sha;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const seeded = await prepareDatabase();
  // Migrations added since the database was seeded (an index) apply here, as at a service start.
  const migrated = await migrate(DATABASE_URL, join(PROJECT_ROOT, 'prisma', 'migrations'));
  if (migrated.applied.length) progress(`applied ${migrated.applied.join(', ')}`);
  // The bench times queries, not the rate limiter: its budget is lifted as in the tests' harness.
  const unlimited = '1000000000';
  const config = loadConfig({
    ...process.env,
    VIGIL_RATE_POINTS_PER_SECOND: unlimited,
    VIGIL_RATE_BURST: unlimited,
    DATABASE_URL,
    VIGIL_ADMIN_KEY: ADMIN_KEY,
    PORT: '0',
    LOG_LEVEL: 'warn',
  });
  const log = pino({ level: 'warn' });
  let runtime: Runtime | undefined;
  let gateway: Gateway | undefined;
  const sql = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  try {
    runtime = await openRuntime(config, log, { migrate: false });
    gateway = await startGateway(runtime.services, log, 0);
    const url = `http://127.0.0.1:${gateway.port}/graphql`;
    const auditAfterId = (await sql.query<{ id: string }>(`SELECT id FROM "AuditEntry" ORDER BY id OFFSET $1 LIMIT 1`, [Math.floor(PLAN.auditEntries / 2)])).rows[0]!.id;
    const queries = benchQueries({
      streamId: seeded.streamIds[3]!,
      // The last day of a stream's month: about a thirtieth of its anomalies match.
      since: new Date(END - 86_400_000),
      lineageAnomalyId: seeded.lineageAnomalyId,
      auditAfter: encodeCursor(auditAfterId),
      auditAfterId,
    });
    const rows: string[][] = [];
    for (const query of queries) {
      const answered = query.count(await graphqlRequest(url, query));
      const expected = Math.min(100, (await sql.query(query.sql, query.params)).rowCount ?? 0);
      if (answered !== expected) throw new Error(`${query.name}: GraphQL answered ${answered} items, SQL ${expected}`);
      progress(`${query.name}: timing ${RUNS} requests of each`);
      const api = await timed(() => graphqlRequest(url, query));
      const hand = await timed(() => sql.query(query.sql, query.params));
      const ratio = api.p50 / hand.p50;
      const verdict = ratio <= 2 && api.statements <= 10 ? 'meets goal' : 'misses goal';
      rows.push([query.name, String(api.statements), ms(api.p50), ms(api.p99), ms(hand.p50), ms(hand.p99), `${ratio.toFixed(1)}x`, verdict]);
    }
    const cpu = cpus();
    console.log('');
    console.log(`machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()}/${arch()}, Node ${process.version}`);
    console.log(`date: ${new Date().toISOString()}   commit: ${commitOf()}`);
    console.log(`data: ${PLAN.incidents} incidents x ${PLAN.anomaliesPerIncident} anomalies, ${PLAN.anomalies.toLocaleString('en-US')} anomalies over ${PLAN.streams} streams and ${PLAN.days} days, ${PLAN.auditEntries} audit entries; ${RUNS} timed runs each after ${WARMUP} warm-up`);
    console.log('');
    printTable(['query', 'SQL statements', 'API p50', 'API p99', 'SQL p50', 'SQL p99', 'API/SQL p50', 'goal (<=2x, <=10 statements)'], rows);
  } finally {
    await gateway?.close().catch(() => undefined);
    await runtime?.close().catch(() => undefined);
    await sql.end();
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

function printTable(header: string[], rows: string[][]): void {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
