import type { Prisma } from '../generated/prisma/client.ts';
import { newId } from '../core/ids.ts';

type Tx = Prisma.TransactionClient;

export interface DriftNotice {
  detectorId: string;
  streamId: string;
  detectorName: string;
  streamName: string;
  seriesKey: string | null;
  change: 'DETECTED' | 'CLEARED';
  explanation: string;
}

/** One drift incident per detector at a time: its own group, apart from the detector's anomalies. */
export const driftGroupKey = (detectorId: string) => `drift/${detectorId}`;

/**
 * Tells a person that a detector's input drifted and that it re-baselined:
 * the series joins or leaves the detector's drifting series (DetectorDrift,
 * shared by every partition and worker), Detector.drifting holds while any
 * series drifts, and an INFO incident of the detector's drift group carries
 * the story (opened on the first drift, resolved when the last drifting
 * series clears). Runs in the worker's batch transaction, like everything
 * the batch changes.
 */
export async function recordDrift(tx: Tx, notices: DriftNotice[], now: Date): Promise<string[]> {
  const touched = new Set<string>();
  for (const notice of notices) {
    const key = driftGroupKey(notice.detectorId);
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
    const open = await tx.incident.findFirst({ where: { groupKey: key, status: { not: 'RESOLVED' } }, orderBy: { openedAt: 'desc' } });
    const series = notice.seriesKey === null ? '' : ` (series ${notice.seriesKey})`;
    const seriesKey = notice.seriesKey ?? '';
    if (notice.change === 'DETECTED') {
      await tx.detectorDrift.upsert({
        where: { detectorId_seriesKey: { detectorId: notice.detectorId, seriesKey } },
        create: { detectorId: notice.detectorId, seriesKey, since: now },
        update: {},
      });
      await tx.detector.update({ where: { id: notice.detectorId }, data: { drifting: true } });
      const message = `input drifted${series}; the detector re-baselined and is warming up again: ${notice.explanation}`;
      if (open) {
        await tx.incidentEvent.create({ data: { incidentId: open.id, at: now, kind: 'DRIFT_DETECTED', message, actor: 'vigil' } });
        touched.add(open.id);
      } else {
        const id = newId('Incident');
        await tx.incident.create({
          data: {
            id,
            title: `${notice.detectorName}: input drift on ${notice.streamName}`,
            status: 'OPEN',
            severity: 'INFO',
            streamId: notice.streamId,
            groupKey: key,
            detectorId: notice.detectorId,
            openedAt: now,
            lastSeenAt: now,
            timeline: { create: { at: now, kind: 'DRIFT_DETECTED', message, actor: 'vigil' } },
          },
        });
        touched.add(id);
      }
    } else {
      await tx.detectorDrift.deleteMany({ where: { detectorId: notice.detectorId, seriesKey } });
      const stillDrifting = (await tx.detectorDrift.count({ where: { detectorId: notice.detectorId } })) > 0;
      if (!stillDrifting) await tx.detector.update({ where: { id: notice.detectorId }, data: { drifting: false } });
      if (open) {
        await tx.incidentEvent.create({
          data: { incidentId: open.id, at: now, kind: 'DRIFT_CLEARED', message: `new baseline learned${series}`, actor: 'vigil' },
        });
        if (!stillDrifting) {
          await tx.incident.update({ where: { id: open.id }, data: { status: 'RESOLVED', resolvedAt: now } });
          await tx.incidentEvent.create({ data: { incidentId: open.id, at: now, kind: 'RESOLVED', message: 'no series drifting any more', actor: 'vigil' } });
        }
        touched.add(open.id);
      }
    }
  }
  return [...touched];
}
