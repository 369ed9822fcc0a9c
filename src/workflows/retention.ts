import type { Db } from '../store/db.ts';
import { Prisma } from '../generated/prisma/client.ts';

export interface RetentionResult {
  anomalies: number;
  deadLetters: number;
  incidents: number;
}

/** What ages out: a table, the time its rows age by, and (for incidents) which rows may go at all. */
const RETAINED = {
  anomalies: { table: 'Anomaly', agedBy: 'detectedAt', only: '' },
  deadLetters: { table: 'DeadLetter', agedBy: 'receivedAt', only: '' },
  incidents: { table: 'Incident', agedBy: 'resolvedAt', only: `r."status" = 'RESOLVED' AND ` },
} as const;

/**
 * Deletes what a stream keeps no longer than its retentionDays: anomalies
 * and dead letters by when they were recorded, incidents once resolved that
 * long ago (their timelines and links go with them). Each statement deletes
 * at most `batch` rows, and a pass runs at most `maxBatches` of them per
 * kind, so a backlog is worked off over several passes without long locks.
 */
export async function applyRetention(db: Db, now: Date, batch = 5000, maxBatches = 20): Promise<RetentionResult> {
  const result: RetentionResult = { anomalies: 0, deadLetters: 0, incidents: 0 };
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
  return result;
}
