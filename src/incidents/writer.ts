import type { Anomaly, Prisma } from '../generated/prisma/client.ts';
import type { Severity } from '../generated/prisma/enums.ts';
import { newId } from '../core/ids.ts';
import { decideGrouping, groupKey, severityRank, type IncidentPolicy } from './policy.ts';
import type { RunbookStep } from './runbook-step.ts';
import { INPUT_SUSPECT, inputSuspectNote, selfIncidentTitle, SELF_STREAM_NAME } from './self-monitoring-notices.ts';

type Tx = Prisma.TransactionClient;

export interface GroupingContext {
  policyOf(detectorId: string): IncidentPolicy;
  describe(anomaly: Anomaly): { stream: string; detector: string };
  describeDetector(detectorId: string): { streamId: string; streamName: string; detectorName: string };
  now: Date;
}

export interface GroupingResult {
  /** Incidents opened, joined, escalated or reopened: announced after commit. */
  incidentIds: Set<string>;
  /** Runbook executions written (the outbox): handed to BullMQ after commit. */
  executionIds: string[];
}

/**
 * Groups newly recorded anomalies into incidents and writes the runbook
 * executions that an opening or escalation calls for, all inside the
 * caller's transaction (the worker's batch transaction), so exactly-once
 * holds for incidents and executions as it does for anomalies.
 */
export async function groupAnomalies(tx: Tx, anomalies: Anomaly[], context: GroupingContext): Promise<GroupingResult> {
  const result: GroupingResult = { incidentIds: new Set(), executionIds: [] };
  const ordered = anomalies.filter((a) => !a.shadow).sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime());
  for (const anomaly of ordered) {
    const policy = context.policyOf(anomaly.detectorId);
    const key = groupKey(anomaly.streamId, anomaly.detectorId, anomaly.seriesKey, policy);
    // Two workers may hold partitions of the same group: serialise on the group, not the table.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
    const head = await tx.incident.findFirst({ where: { groupKey: key }, orderBy: { openedAt: 'desc' } });
    const decision = decideGrouping(head, anomaly, policy, context.now);
    const { stream, detector } = context.describe(anomaly);
    let incidentId: string;
    let triggered: 'opened' | 'escalated' | null = null;

    // A business incident opened (or reopened) while its stream's pipeline is degraded says its input is suspect.
    const isSelf = stream === SELF_STREAM_NAME;
    const suspect = decision.action !== 'join' && !isSelf ? await inputSuspectNote(tx, anomaly.streamId) : null;
    if (decision.action === 'open') {
      incidentId = newId('Incident');
      const series = policy.groupBy === 'SERIES' && anomaly.seriesKey !== null ? ` (${anomaly.seriesKey})` : '';
      const title = isSelf
        ? await selfIncidentTitle(tx, detector, anomaly.field, anomaly.seriesKey)
        : `${detector}: ${anomaly.field} anomalies on ${stream}${series}`;
      await tx.incident.create({
        data: {
          id: incidentId,
          title,
          status: 'OPEN',
          severity: anomaly.severity,
          streamId: anomaly.streamId,
          groupKey: key,
          detectorId: anomaly.detectorId,
          seriesKey: policy.groupBy === 'SERIES' ? anomaly.seriesKey : null,
          anomalyCount: 1,
          openedAt: context.now,
          lastAnomalyAt: anomaly.eventTime,
          lastSeenAt: context.now,
          timeline: {
            create: [
              { at: context.now, kind: 'OPENED', message: `opened by ${anomaly.explanation}` },
              ...(suspect ? [{ at: context.now, kind: INPUT_SUSPECT, message: suspect, actor: 'vigil' }] : []),
            ],
          },
        },
      });
      triggered = 'opened';
    } else {
      const current = head!;
      incidentId = current.id;
      const events: { kind: string; message: string }[] = [];
      if (decision.action === 'reopen') {
        events.push({ kind: 'REOPENED', message: `reopened within the ${policy.flapWindowSeconds} s flap window by a new anomaly` });
      }
      events.push({ kind: 'ANOMALY_JOINED', message: anomaly.explanation });
      if (suspect) events.push({ kind: INPUT_SUSPECT, message: suspect });
      if (decision.escalateTo) {
        events.push({ kind: 'ESCALATED', message: `severity ${current.severity} -> ${decision.escalateTo}` });
        triggered = 'escalated';
      }
      const lastAnomalyAt =
        current.lastAnomalyAt && current.lastAnomalyAt > anomaly.eventTime ? current.lastAnomalyAt : anomaly.eventTime;
      await tx.incident.update({
        where: { id: incidentId },
        data: {
          anomalyCount: { increment: 1 },
          lastAnomalyAt,
          lastSeenAt: context.now,
          ...(decision.escalateTo ? { severity: decision.escalateTo } : {}),
          ...(decision.action === 'reopen' ? { status: 'OPEN', resolvedAt: null, acknowledgedAt: null } : {}),
          timeline: { create: events.map((e) => ({ ...e, at: context.now })) },
        },
      });
    }
    await tx.anomaly.update({ where: { id: anomaly.id }, data: { incidentId } });
    result.incidentIds.add(incidentId);
    if (triggered) {
      const severity = decision.action === 'open' ? anomaly.severity : (decision.escalateTo ?? anomaly.severity);
      const created = await planExecutions(tx, { incidentId, streamId: anomaly.streamId, detectorId: anomaly.detectorId, severity }, context.now);
      result.executionIds.push(...created);
    }
  }
  return result;
}

/**
 * The runbooks an incident calls for (matching stream or detector, severity
 * at least the trigger's, outside the runbook's cooldown for this stream),
 * written as executions: the outbox a relay hands to BullMQ after commit.
 */
export async function planExecutions(
  tx: Tx,
  incident: { incidentId: string; streamId: string; detectorId: string; severity: Severity },
  now: Date,
): Promise<string[]> {
  const runbooks = await tx.runbook.findMany({
    where: {
      archivedAt: null,
      AND: [
        { OR: [{ triggerStreamId: null }, { triggerStreamId: incident.streamId }] },
        { OR: [{ triggerDetectorId: null }, { triggerDetectorId: incident.detectorId }] },
      ],
    },
    orderBy: { id: 'asc' },
  });
  const created: string[] = [];
  for (const runbook of runbooks) {
    if (severityRank(incident.severity) < severityRank(runbook.minSeverity)) continue;
    if (runbook.cooldownSeconds > 0) {
      const recent = await tx.runbookExecution.findFirst({
        where: {
          runbookId: runbook.id,
          incident: { streamId: incident.streamId },
          createdAt: { gt: new Date(now.getTime() - runbook.cooldownSeconds * 1000) },
        },
        select: { id: true },
      });
      if (recent) {
        await tx.incidentEvent.create({
          data: {
            incidentId: incident.incidentId,
            at: now,
            kind: 'RUNBOOK_SKIPPED',
            message: `runbook "${runbook.name}" is cooling down for this stream (${runbook.cooldownSeconds} s since ${recent.id})`,
          },
        });
        continue;
      }
    }
    created.push(await createExecution(tx, runbook, incident.incidentId, 'vigil (automatic)', now));
  }
  return created;
}

export async function createExecution(
  tx: Tx,
  runbook: { id: string; name: string; steps: Prisma.JsonValue; requiresApproval: boolean },
  incidentId: string | null,
  requestedBy: string,
  now: Date,
  /** The API key that asked, so approval can tell it apart from other keys; null for automatic runs. */
  requestedByKeyId: string | null = null,
): Promise<string> {
  const id = newId('RunbookExecution');
  const steps = runbook.steps as unknown as RunbookStep[];
  const status = runbook.requiresApproval ? 'PENDING_APPROVAL' : 'QUEUED';
  await tx.runbookExecution.create({
    data: {
      id,
      runbookId: runbook.id,
      incidentId,
      status,
      requestedBy,
      requestedByKeyId,
      createdAt: now,
      steps: {
        create: steps.map((step, index) => ({ index, action: step.action, params: step.params as object, status: 'QUEUED' })),
      },
    },
  });
  if (incidentId) {
    await tx.incidentEvent.create({
      data: {
        incidentId,
        at: now,
        kind: status === 'QUEUED' ? 'RUNBOOK_QUEUED' : 'RUNBOOK_PENDING_APPROVAL',
        message:
          status === 'QUEUED'
            ? `runbook "${runbook.name}" queued (${id})`
            : `runbook "${runbook.name}" waits for approval (${id})`,
        actor: requestedBy,
      },
    });
  }
  return id;
}
