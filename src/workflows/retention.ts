import type { Db } from '../store/db.ts';
import { Prisma } from '../generated/prisma/client.ts';

export interface RetentionResult {
  anomalies: number;
  deadLetters: number;
  incidents: number;
  silences: number;
  /** "ChangeCommit" rows no anomaly, incident or execution points at any longer. */
  changeCommits: number;
}

/** Sequence numbers of "ChangeCommit" looked at per pruning statement (each checked against three indexes). */
const PRUNE_WINDOW = 10_000;

/** What ages out: a table, the time its rows age by, and (for incidents) which rows may go at all. */
const RETAINED = {
  anomalies: { table: 'Anomaly', agedBy: 'detectedAt', only: '' },
  deadLetters: { table: 'DeadLetter', agedBy: 'receivedAt', only: '' },
  incidents: { table: 'Incident', agedBy: 'resolvedAt', only: `r."status" = 'RESOLVED' AND ` },
  silences: { table: 'Silence', agedBy: 'endsAt', only: '' },
} as const;

/**
 * Deletes what a stream keeps no longer than its retentionDays: anomalies
 * and dead letters by when they were recorded, incidents once resolved that
 * long ago (their timelines and links go with them), silences once ended that long ago. Each statement deletes
 * at most `batch` rows, and a pass runs at most `maxBatches` of them per
 * kind, so a backlog is worked off over several passes without long locks.
 */
export async function applyRetention(db: Db, now: Date, batch = 5000, maxBatches = 20): Promise<RetentionResult> {
  const result: RetentionResult = { anomalies: 0, deadLetters: 0, incidents: 0, silences: 0, changeCommits: 0 };
  for (const kind of Object.keys(RETAINED) as (keyof typeof RETAINED)[]) {
    const { table, agedBy, only } = RETAINED[kind];
    // Identifiers come from the constant above, never from input.
    const statement = Prisma.sql`
      DELETE FROM ${Prisma.raw(`"${table}"`)} WHERE ctid IN (
        SELECT r.ctid FROM ${Prisma.raw(`"${table}"`)} r JOIN "Stream" s ON s."id" = r."streamId"
        WHERE ${Prisma.raw(only)}${Prisma.raw(`r."${agedBy}"`)} < ${now}::timestamp - make_interval(days => s."retentionDays")
        LIMIT ${batch})`;
    for (let i = 0; i < maxBatches; i++) {
      const deleted = await db.$executeRaw(statement);
      result[kind] += deleted;
      if (deleted < batch) break;
    }
  }
  result.changeCommits = await pruneChangeCommits(db);
  return result;
}

/**
 * "ChangeCommit" (commit positions, services/commit-positions.ts) gains a row
 * per transaction that writes anomalies, incidents or executions. A row only
 * matters while a row of those tables still carries its transaction (an
 * incident changed again, or deleted by retention, leaves it behind), and the
 * newest one is the head position new subscribers start from: every other row
 * goes, PRUNE_WINDOW sequence numbers per statement. A row committed while
 * this runs is invisible to it together with the rows pointing at it, so it stays.
 */
async function pruneChangeCommits(db: Db, batch = PRUNE_WINDOW): Promise<number> {
  const [bounds] = await db.$queryRaw<{ low: bigint | null; high: bigint | null }[]>`SELECT min("seq") AS "low", max("seq") AS "high" FROM "ChangeCommit"`;
  if (!bounds?.low || !bounds.high) return 0;
  let deleted = 0;
  for (let from = bounds.low; from < bounds.high; from += BigInt(batch)) {
    const to = from + BigInt(batch) < bounds.high ? from + BigInt(batch) : bounds.high;
    deleted += await db.$executeRaw`
      DELETE FROM "ChangeCommit" c WHERE c."seq" >= ${from} AND c."seq" < ${to}
        AND NOT EXISTS (SELECT 1 FROM "Anomaly" a WHERE a."changeXid" = c."xid")
        AND NOT EXISTS (SELECT 1 FROM "Incident" i WHERE i."changeXid" = c."xid")
        AND NOT EXISTS (SELECT 1 FROM "RunbookExecution" e WHERE e."changeXid" = c."xid")`;
  }
  return deleted;
}
