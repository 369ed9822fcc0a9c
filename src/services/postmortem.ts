import type { Anomaly, Incident, RunbookExecution } from '../generated/prisma/client.ts';
import type { Db } from '../store/db.ts';
import { BadUserInputError, NotFoundError } from '../core/errors.ts';
import { traceIdOf } from '../telemetry/trace-context.ts';
import { buildPostmortem, type Postmortem, type PostmortemInput } from '../incidents/postmortem.ts';

/**
 * The anomalies a postmortem reads: the oldest ones, which hold the start of
 * the story; `anomalyCount` still reports the whole impact.
 */
const MAX_ANOMALIES = 500;

/** A postmortem with the rows the GraphQL face resolves its nested objects from. */
export interface LoadedPostmortem extends Postmortem {
  incident: Incident;
  firstAnomaly: Anomaly | null;
  executions: RunbookExecution[];
}

/** Reads one resolved incident's anomalies, timeline and runbook executions, and writes its postmortem. */
export class PostmortemService {
  constructor(private readonly db: Db) {}

  async forIncident(incidentId: string): Promise<LoadedPostmortem> {
    const incident = await this.db.incident.findUnique({ where: { id: incidentId }, include: { stream: { select: { name: true } } } });
    if (!incident) throw new NotFoundError('incident', incidentId, 'incidentId');
    if (incident.status !== 'RESOLVED') {
      throw new BadUserInputError('incidentId', `incident ${incidentId} is ${incident.status}: a postmortem is written once it is resolved`);
    }
    const [anomalies, events, executions] = await Promise.all([
      this.db.anomaly.findMany({
        where: { incidentId },
        orderBy: [{ detectedAt: 'asc' }, { id: 'asc' }],
        take: MAX_ANOMALIES,
        include: { detector: { select: { name: true } }, sla: { select: { name: true } } },
      }),
      this.db.incidentEvent.findMany({ where: { incidentId }, orderBy: { id: 'asc' } }),
      this.db.runbookExecution.findMany({
        where: { incidentId },
        orderBy: { createdAt: 'asc' },
        include: { runbook: { select: { name: true } }, steps: { orderBy: { index: 'asc' } } },
      }),
    ]);
    const { stream, ...incidentRow } = incident;
    const input: PostmortemInput = {
      incident: incidentRow,
      streamName: stream.name,
      anomalies: anomalies.map((a) => ({
        id: a.id,
        detectedAt: a.detectedAt,
        eventTime: a.eventTime,
        seriesKey: a.seriesKey,
        field: a.field,
        value: a.value,
        severity: a.severity,
        explanation: a.explanation,
        detectorName: a.detector.name,
        detectorVersion: a.detectorVersion,
        topic: a.topic,
        partition: a.partition,
        offset: a.offset.toString(),
        schemaVersion: a.schemaVersion,
        traceId: traceIdOf(a.traceparent),
        slaName: a.sla?.name ?? null,
      })),
      events: events.map((e) => ({ at: e.at, kind: e.kind, message: e.message, actor: e.actor })),
      executions: executions.map((e) => ({
        id: e.id,
        runbookName: e.runbook.name,
        status: e.status,
        requestedBy: e.requestedBy,
        approvedBy: e.approvedBy,
        createdAt: e.createdAt,
        finishedAt: e.finishedAt,
        verified: e.verified,
        steps: e.steps.map((s) => ({
          index: s.index,
          action: s.action,
          status: s.status,
          attempts: s.attempts,
          error: s.error,
          startedAt: s.startedAt,
          finishedAt: s.finishedAt,
        })),
      })),
    };
    const first = anomalies[0];
    const firstAnomaly = first ? (({ detector: _d, sla: _s, ...row }) => row)(first) : null;
    const rows = executions.map(({ runbook: _r, steps: _s, ...row }) => row);
    return { ...buildPostmortem(input), incident: incidentRow, firstAnomaly, executions: rows };
  }
}
