import type { Db } from '../store/db.ts';

/**
 * Resolves incidents whose group has been quiet for its detector's quiet
 * period, with a timeline entry saying so. Bounded per pass; rows another
 * sweeper holds are skipped, not waited for.
 */
export async function sweepQuietIncidents(db: Db, limit = 500): Promise<string[]> {
  return db.$transaction(async (tx) => {
    const quiet = await tx.$queryRaw<{ id: string; quietPeriodSeconds: number }[]>`
      SELECT i."id", d."quietPeriodSeconds"
      FROM "Incident" i JOIN "Detector" d ON d."id" = i."detectorId"
      WHERE i."status" IN ('OPEN', 'ACKNOWLEDGED')
        AND i."lastSeenAt" < now() - make_interval(secs => d."quietPeriodSeconds")
      ORDER BY i."lastSeenAt"
      LIMIT ${limit}
      FOR UPDATE OF i SKIP LOCKED`;
    for (const { id, quietPeriodSeconds } of quiet) {
      await tx.incident.update({ where: { id }, data: { status: 'RESOLVED', resolvedAt: new Date() } });
      await tx.incidentEvent.create({
        data: { incidentId: id, kind: 'AUTO_RESOLVED', message: `no new anomaly for ${quietPeriodSeconds} s: resolved automatically`, actor: 'vigil' },
      });
    }
    return quiet.map((q) => q.id);
  });
}
