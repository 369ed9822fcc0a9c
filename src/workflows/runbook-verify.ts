import { SEVERITIES } from '../core/severity.ts';
import type { Db } from '../store/db.ts';

/**
 * Did the remediation help? No new anomaly in the incident's group since it
 * finished, and no SLA whose breach is in the incident still broken:
 * verified, and the incident resolves. Otherwise the timeline says so and
 * the incident escalates. (A breach records one anomaly when it starts, not
 * one per evaluation, so silence alone does not mean an SLA recovered.)
 * Returns the incident it judged, or undefined when there was nothing to judge.
 */
export async function verifyExecution(db: Db, executionId: string): Promise<string | undefined> {
  const execution = await db.runbookExecution.findUnique({ where: { id: executionId }, include: { incident: true, runbook: true } });
  if (!execution?.incident || !execution.finishedAt || execution.verified !== null) return undefined;
  const incident = execution.incident;
  const newer = await db.anomaly.count({
    where: { incident: { groupKey: incident.groupKey }, detectedAt: { gt: execution.finishedAt }, shadow: false },
  });
  const stillBreached = await db.sla.findMany({
    where: { met: false, anomalies: { some: { incidentId: incident.id } } },
    select: { name: true },
    orderBy: { name: 'asc' },
  });
  if (newer === 0 && stillBreached.length === 0) {
    await db.$transaction([
      db.runbookExecution.update({ where: { id: executionId }, data: { verified: true } }),
      db.incident.updateMany({ where: { id: incident.id, status: { not: 'RESOLVED' } }, data: { status: 'RESOLVED', resolvedAt: new Date() } }),
      db.incidentEvent.create({
        data: { incidentId: incident.id, kind: 'VERIFIED', message: `no new anomaly after runbook "${execution.runbook.name}": resolved`, actor: 'vigil' },
      }),
    ]);
  } else {
    const next = SEVERITIES[Math.min(SEVERITIES.indexOf(incident.severity) + 1, SEVERITIES.length - 1)]!;
    await db.$transaction([
      db.runbookExecution.update({ where: { id: executionId }, data: { verified: false } }),
      db.incident.update({ where: { id: incident.id }, data: { severity: next } }),
      db.incidentEvent.create({
        data: {
          incidentId: incident.id,
          kind: 'NOT_VERIFIED',
          message: `runbook "${execution.runbook.name}" did not help: ${notHelpedBecause(newer, stillBreached.map((s) => s.name))}; severity ${incident.severity} -> ${next}`,
          actor: 'vigil',
        },
      }),
    ]);
  }
  return incident.id;
}

/** How long after an execution finished it is verified (the longest of its steps' verifyWithinSeconds); 0: it is not. */
export function verifyWithinSeconds(steps: readonly { params: unknown }[]): number {
  return Math.max(0, ...steps.map((s) => Number((s.params as Record<string, unknown> | null)?.verifyWithinSeconds ?? 0)));
}

/** Why a verification failed, for the timeline: new anomalies, SLAs still breached, or both. */
export function notHelpedBecause(newAnomalies: number, breachedSlas: readonly string[]): string {
  const reasons: string[] = [];
  if (newAnomalies > 0) reasons.push(`${newAnomalies} new anomal${newAnomalies === 1 ? 'y' : 'ies'} since it finished`);
  if (breachedSlas.length > 0) reasons.push(`SLA${breachedSlas.length === 1 ? '' : 's'} ${breachedSlas.map((n) => `'${n}'`).join(', ')} still breached`);
  return reasons.join(' and ');
}
