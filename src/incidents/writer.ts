import type { Anomaly, Prisma, Runbook } from '../generated/prisma/client.ts';
import type { Severity } from '../generated/prisma/enums.ts';
import { newId } from '../core/ids.ts';
import { decideGrouping, groupKey, severityRank, type IncidentPolicy } from './policy.ts';
import { GroupingWrites, lockedHeads, type HeadState, type TimelineEntry } from './grouping-writes.ts';
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
 * holds for incidents and executions as it does for anomalies. Decisions are
 * taken one anomaly at a time, in event-time order, on heads kept in memory;
 * the writes go out together (grouping-writes.ts), before any runbook is
 * planned so the plan sees the incident it belongs to.
 */
export async function groupAnomalies(tx: Tx, anomalies: Anomaly[], context: GroupingContext): Promise<GroupingResult> {
  const result: GroupingResult = { incidentIds: new Set(), executionIds: [] };
  const ordered = anomalies
    // Shadow anomalies never alert; silenced ones fell in a maintenance window (their silenceId says which).
    .filter((a) => !a.shadow && a.silenceId === null)
    .sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime())
    .map((anomaly) => {
      const policy = context.policyOf(anomaly.detectorId);
      return { anomaly, policy, key: groupKey(anomaly.streamId, anomaly.detectorId, anomaly.seriesKey, policy) };
    });
  if (ordered.length === 0) return result;
  const heads = await lockedHeads(tx, ordered.map((o) => o.key));
  const writes = new GroupingWrites(context.now);
  const suspects = new Map<string, Promise<string | null>>();
  const runbooks = new Map<string, Promise<Runbook[]>>();

  for (const { anomaly, policy, key } of ordered) {
    const head = heads.get(key) ?? null;
    const decision = decideGrouping(head, anomaly, policy, context.now);
    const { stream, detector } = context.describe(anomaly);
    // A business incident opened (or reopened) while its stream's pipeline is degraded says its input is suspect.
    const isSelf = stream === SELF_STREAM_NAME;
    const suspect = decision.action !== 'join' && !isSelf ? await memo(suspects, anomaly.streamId, () => inputSuspectNote(tx, anomaly.streamId)) : null;
    const suspectEntry = suspect ? [{ kind: INPUT_SUSPECT, message: suspect, actor: 'vigil' }] : [];
    let incident: HeadState;
    if (decision.action === 'open') {
      const series = policy.groupBy === 'SERIES' && anomaly.seriesKey !== null ? ` (${anomaly.seriesKey})` : '';
      const title = isSelf
        ? await selfIncidentTitle(tx, detector, anomaly.field, anomaly.seriesKey)
        : `${detector}: ${anomaly.field} anomalies on ${stream}${series}`;
      const incidentFields = {
        id: newId('Incident'),
        title,
        severity: anomaly.severity,
        streamId: anomaly.streamId,
        groupKey: key,
        detectorId: anomaly.detectorId,
        seriesKey: policy.groupBy === 'SERIES' ? anomaly.seriesKey : null,
        lastAnomalyAt: anomaly.eventTime,
      };
      incident = writes.open(incidentFields, [{ kind: 'OPENED', message: `opened by ${anomaly.explanation}` }, ...suspectEntry]);
      heads.set(key, incident);
    } else {
      incident = head!;
      const entries: TimelineEntry[] = [];
      if (decision.action === 'reopen') {
        entries.push({ kind: 'REOPENED', message: `reopened within the ${policy.flapWindowSeconds} s flap window by a new anomaly` });
      }
      entries.push({ kind: 'ANOMALY_JOINED', message: anomaly.explanation });
      if (suspect) entries.push({ kind: INPUT_SUSPECT, message: suspect });
      if (decision.escalateTo) entries.push({ kind: 'ESCALATED', message: `severity ${incident.severity} -> ${decision.escalateTo}` });
      writes.join(incident, anomaly.eventTime, decision.escalateTo, decision.action === 'reopen', entries);
    }
    writes.member(anomaly.id, incident.id);
    result.incidentIds.add(incident.id);
    const triggered = decision.action === 'open' || decision.escalateTo !== null;
    if (!triggered) continue;
    const candidates = await memo(runbooks, `${anomaly.streamId}/${anomaly.detectorId}`, () => runbooksFor(tx, anomaly.streamId, anomaly.detectorId));
    if (!candidates.some((r) => severityRank(incident.severity) >= severityRank(r.minSeverity))) continue;
    await writes.flush(tx);
    const planned = { incidentId: incident.id, streamId: anomaly.streamId, severity: incident.severity };
    result.executionIds.push(...(await planExecutions(tx, candidates, planned, context.now)));
  }
  await writes.flush(tx);
  return result;
}

function memo<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) cache.set(key, (value = load()));
  return value;
}

/** Runbooks whose trigger matches the stream and detector (any stream or detector when unset), oldest first. */
function runbooksFor(tx: Tx, streamId: string, detectorId: string): Promise<Runbook[]> {
  return tx.runbook.findMany({
    where: {
      archivedAt: null,
      AND: [{ OR: [{ triggerStreamId: null }, { triggerStreamId: streamId }] }, { OR: [{ triggerDetectorId: null }, { triggerDetectorId: detectorId }] }],
    },
    orderBy: { id: 'asc' },
  });
}

/**
 * The runbooks an incident calls for (of the candidates, those whose trigger
 * severity the incident reaches and outside their cooldown for this stream),
 * written as executions: the outbox a relay hands to BullMQ after commit.
 */
async function planExecutions(
  tx: Tx,
  runbooks: Runbook[],
  incident: { incidentId: string; streamId: string; severity: Severity },
  now: Date,
): Promise<string[]> {
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
