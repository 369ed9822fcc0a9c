import type { Db } from '../db.ts';

export interface RetentionResult {
  anomalies: number;
  deadLetters: number;
  incidents: number;
}

/**
 * Deletes what a stream keeps no longer than its retentionDays: anomalies
 * and dead letters by when they were recorded, incidents once resolved that
 * long ago (their timelines and links go with them). Each statement deletes
 * at most `batch` rows, and a pass runs at most `maxBatches` of them per
 * kind, so a backlog is worked off over several passes without long locks.
 */
export async function applyRetention(db: Db, now: Date, batch = 5000, maxBatches = 20): Promise<RetentionResult> {
  const result: RetentionResult = { anomalies: 0, deadLetters: 0, incidents: 0 };
  const deleteInBatches = async (run: () => Promise<number>): Promise<number> => {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const deleted = await run();
      total += deleted;
      if (deleted < batch) break;
    }
    return total;
  };
  result.anomalies = await deleteInBatches(
    () => db.$executeRaw`
      DELETE FROM "Anomaly" WHERE ctid IN (
        SELECT a.ctid FROM "Anomaly" a JOIN "Stream" s ON s."id" = a."streamId"
        WHERE a."detectedAt" < ${now}::timestamp - make_interval(days => s."retentionDays")
        LIMIT ${batch})`,
  );
  result.deadLetters = await deleteInBatches(
    () => db.$executeRaw`
      DELETE FROM "DeadLetter" WHERE ctid IN (
        SELECT d.ctid FROM "DeadLetter" d JOIN "Stream" s ON s."id" = d."streamId"
        WHERE d."receivedAt" < ${now}::timestamp - make_interval(days => s."retentionDays")
        LIMIT ${batch})`,
  );
  result.incidents = await deleteInBatches(
    () => db.$executeRaw`
      DELETE FROM "Incident" WHERE ctid IN (
        SELECT i.ctid FROM "Incident" i JOIN "Stream" s ON s."id" = i."streamId"
        WHERE i."status" = 'RESOLVED' AND i."resolvedAt" < ${now}::timestamp - make_interval(days => s."retentionDays")
        LIMIT ${batch})`,
  );
  return result;
}
