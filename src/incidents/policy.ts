import type { IncidentStatus, Severity } from '../generated/prisma/enums.ts';
import { SEVERITIES } from '../core/severity.ts';

/**
 * How a detector's anomalies become incidents, decided without I/O so the
 * rules can be read and tested on their own. The worker applies the decision
 * inside the batch transaction that records the anomaly.
 */
export interface IncidentPolicy {
  /** DETECTOR: one incident per stream and detector; SERIES: one per series as well. */
  groupBy: 'DETECTOR' | 'SERIES';
  /** An anomaly joins its group's open incident while the gap since the last one is under this. */
  correlationWindowSeconds: number;
  /** A resolved incident that gets a new anomaly within this is reopened, not duplicated. */
  flapWindowSeconds: number;
  /** An incident with no new anomaly for this long resolves itself. */
  quietPeriodSeconds: number;
}

export const DEFAULT_INCIDENT_POLICY: IncidentPolicy = {
  groupBy: 'DETECTOR',
  correlationWindowSeconds: 300,
  flapWindowSeconds: 900,
  quietPeriodSeconds: 1800,
};

/** The latest incident of a group, as far as the decision needs it. */
export interface GroupHead {
  status: IncidentStatus;
  severity: Severity;
  /** Event time of its latest anomaly. */
  lastAnomalyAt: Date | null;
  resolvedAt: Date | null;
}

export type GroupingDecision =
  | { action: 'open' }
  | { action: 'join'; escalateTo: Severity | null }
  | { action: 'reopen'; escalateTo: Severity | null };

export function groupKey(streamId: string, detectorId: string, seriesKey: string | null, policy: IncidentPolicy): string {
  return policy.groupBy === 'SERIES' ? `${streamId}/${detectorId}/${seriesKey ?? ''}` : `${streamId}/${detectorId}`;
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function higherSeverity(current: Severity, candidate: Severity): Severity | null {
  return severityRank(candidate) > severityRank(current) ? candidate : null;
}

/**
 * Join the open incident while anomalies keep coming (by event time, so a
 * replay groups the same way); reopen a recently resolved one (by the clock:
 * flapping is about what people saw); otherwise open a new one.
 */
export function decideGrouping(
  head: GroupHead | null,
  anomaly: { eventTime: Date; severity: Severity },
  policy: IncidentPolicy,
  now: Date,
): GroupingDecision {
  if (!head) return { action: 'open' };
  const escalateTo = higherSeverity(head.severity, anomaly.severity);
  if (head.status !== 'RESOLVED') {
    const last = head.lastAnomalyAt?.getTime() ?? Number.NEGATIVE_INFINITY;
    const gapSeconds = (anomaly.eventTime.getTime() - last) / 1000;
    // Out-of-order events (a negative gap) belong to the incident they arrived during.
    if (gapSeconds < policy.correlationWindowSeconds) return { action: 'join', escalateTo };
    return { action: 'open' };
  }
  if (head.resolvedAt && (now.getTime() - head.resolvedAt.getTime()) / 1000 < policy.flapWindowSeconds) {
    return { action: 'reopen', escalateTo };
  }
  return { action: 'open' };
}

/** Whether an incident has been quiet long enough to resolve itself. */
export function isQuiet(lastSeenAt: Date | null, policy: IncidentPolicy, now: Date): boolean {
  return lastSeenAt !== null && (now.getTime() - lastSeenAt.getTime()) / 1000 >= policy.quietPeriodSeconds;
}
