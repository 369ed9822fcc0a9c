import type { Prisma } from '../generated/prisma/client.ts';

/**
 * The self-monitoring stream's names and what incident grouping needs to
 * know about it, apart from the sampler (self-monitor.ts) so the incident
 * writer depends on nothing else.
 */
export const SELF_STREAM_NAME = 'vigil.self';
export const SELF_STREAM_TOPIC = 'vigil.self';

type Tx = Prisma.TransactionClient;

/** Timeline kind added to a business incident opened while its stream's pipeline is degraded. */
export const INPUT_SUSPECT = 'INPUT_SUSPECT';

/** Self-monitoring detectors watching a recurring job are named after its scheduler: `schedule:<id>` (schedule-watch.ts). */
export const SCHEDULE_DETECTOR_PREFIX = 'schedule:';

/**
 * Title of a self-monitoring incident: which stream's pipeline, which metric.
 * Its series key is the monitored stream's id (one incident per stream).
 * A recurring job that stopped running has a detector of its own instead.
 */
export async function selfIncidentTitle(tx: Tx, detectorName: string, field: string, monitoredStreamId: string | null): Promise<string> {
  if (detectorName.startsWith(SCHEDULE_DETECTOR_PREFIX)) {
    return `Vigil recurring job "${detectorName.slice(SCHEDULE_DETECTOR_PREFIX.length)}" stopped running (self-monitoring detector "${detectorName}")`;
  }
  const monitored = monitoredStreamId
    ? await tx.stream.findUnique({ where: { id: monitoredStreamId }, select: { name: true } })
    : null;
  const which = monitored ? `"${monitored.name}" (${monitoredStreamId})` : (monitoredStreamId ?? 'unknown');
  return `Vigil pipeline degraded for stream ${which}: ${field} out of bounds (self-monitoring detector "${detectorName}")`;
}

/**
 * The "input suspect" note for a business incident of `streamId`, when a
 * self-monitoring incident about that stream's pipeline is open: one query on
 * Incident(seriesKey, status).
 */
export async function inputSuspectNote(tx: Tx, streamId: string): Promise<string | null> {
  const degraded = await tx.incident.findFirst({
    where: { seriesKey: streamId, status: { in: ['OPEN', 'ACKNOWLEDGED'] }, stream: { name: SELF_STREAM_NAME } },
    orderBy: { openedAt: 'asc' },
    select: { id: true, title: true, openedAt: true },
  });
  if (!degraded) return null;
  return `input suspect: the pipeline of this stream is degraded (${degraded.title}, incident ${degraded.id}, since ${degraded.openedAt.toISOString()})`;
}
