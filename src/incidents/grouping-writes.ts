import type { Prisma } from '../generated/prisma/client.ts';
import type { Severity } from '../generated/prisma/enums.ts';
import type { GroupHead } from './policy.ts';

type Tx = Prisma.TransactionClient;

/** A group's latest incident as grouping has left it so far, written or not. */
export interface HeadState extends GroupHead {
  id: string;
}

export interface TimelineEntry {
  kind: string;
  message: string;
  actor?: string;
}

export interface NewIncident {
  id: string;
  title: string;
  severity: Severity;
  streamId: string;
  groupKey: string;
  detectorId: string;
  seriesKey: string | null;
  lastAnomalyAt: Date;
}

interface Change {
  head: HeadState;
  joined: number;
  escalated: boolean;
  reopened: boolean;
}

/**
 * The groups' latest incidents, each group locked for the rest of the
 * transaction first. Two workers may hold partitions of the same group: the
 * lock serialises them on the group, not on the table. Keys are locked in
 * sorted order, so two batches never wait on each other in a circle.
 */
export async function lockedHeads(tx: Tx, keys: readonly string[]): Promise<Map<string, HeadState>> {
  const sorted = [...new Set(keys)].sort();
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(${sorted}::text[]) WITH ORDINALITY AS g(k, n) ORDER BY n`;
  const rows = await tx.$queryRaw<(HeadState & { groupKey: string })[]>`
    SELECT DISTINCT ON ("groupKey") "groupKey", "id", "status"::text AS "status", "severity"::text AS "severity", "lastAnomalyAt", "resolvedAt"
    FROM "Incident" WHERE "groupKey" = ANY(${sorted}::text[])
    ORDER BY "groupKey", "openedAt" DESC, "id" DESC`;
  return new Map(rows.map(({ groupKey, ...head }) => [groupKey, head]));
}

/**
 * The writes grouping decides, gathered in memory and sent in a number of
 * statements that does not grow with the anomalies: new incidents in one
 * INSERT, the incidents joined in one UPDATE, the timeline in one INSERT (in
 * the order it happened), and the anomalies' incidents in one UPDATE. An
 * incident storm of a thousand anomalies is a handful of statements, not
 * five thousand. The heads it is given are kept current as it goes, so each
 * decision sees the ones before it.
 */
export class GroupingWrites {
  private created = new Map<string, Prisma.IncidentCreateManyInput>();
  private changed = new Map<string, Change>();
  private timeline: Prisma.IncidentEventCreateManyInput[] = [];
  /** Anomaly id -> its incident's id. */
  private members = new Map<string, string>();

  constructor(private readonly now: Date) {}

  open(incident: NewIncident, entries: TimelineEntry[]): HeadState {
    this.created.set(incident.id, { ...incident, status: 'OPEN', anomalyCount: 1, openedAt: this.now, lastSeenAt: this.now });
    this.note(incident.id, entries);
    return { id: incident.id, status: 'OPEN', severity: incident.severity, lastAnomalyAt: incident.lastAnomalyAt, resolvedAt: null };
  }

  /** One more anomaly on an incident: counted, its event time kept if latest, severity raised, reopened if it was resolved. */
  join(head: HeadState, eventTime: Date, escalateTo: Severity | null, reopen: boolean, entries: TimelineEntry[]): void {
    if (!head.lastAnomalyAt || head.lastAnomalyAt < eventTime) head.lastAnomalyAt = eventTime;
    if (escalateTo) head.severity = escalateTo;
    if (reopen) [head.status, head.resolvedAt] = ['OPEN', null];
    const created = this.created.get(head.id);
    if (created) {
      created.anomalyCount = (created.anomalyCount ?? 1) + 1;
      [created.lastAnomalyAt, created.severity] = [head.lastAnomalyAt, head.severity];
    } else {
      const change = this.changed.get(head.id) ?? { head, joined: 0, escalated: false, reopened: false };
      change.joined += 1;
      change.escalated ||= escalateTo !== null;
      change.reopened ||= reopen;
      this.changed.set(head.id, change);
    }
    this.note(head.id, entries);
  }

  member(anomalyId: string, incidentId: string): void {
    this.members.set(anomalyId, incidentId);
  }

  async flush(tx: Tx): Promise<void> {
    if (this.created.size > 0) await tx.incident.createMany({ data: [...this.created.values()] });
    if (this.changed.size > 0) await this.updateJoined(tx);
    if (this.timeline.length > 0) await tx.incidentEvent.createMany({ data: this.timeline });
    if (this.members.size > 0) {
      const anomalyIds = [...this.members.keys()];
      const incidentIds = [...this.members.values()];
      await tx.$executeRaw`
        UPDATE "Anomaly" AS a SET "incidentId" = m."incidentId"
        FROM unnest(${anomalyIds}::text[], ${incidentIds}::text[]) AS m("id", "incidentId") WHERE a."id" = m."id"`;
    }
    [this.created, this.changed, this.timeline, this.members] = [new Map(), new Map(), [], new Map()];
  }

  /** Every incident joined, in one statement: counted up, latest event time, severity if raised, reopened if it was resolved. */
  private async updateJoined(tx: Tx): Promise<void> {
    const changes = [...this.changed.values()];
    const ids = changes.map((c) => c.head.id);
    const joined = changes.map((c) => c.joined);
    // Timestamps travel as ISO text: a timestamp column takes the UTC wall time and ignores the "Z", as Prisma stores it.
    const latest = changes.map((c) => c.head.lastAnomalyAt?.toISOString() ?? null);
    const severity = changes.map((c) => (c.escalated ? c.head.severity : null));
    const reopened = changes.map((c) => c.reopened);
    await tx.$executeRaw`
      UPDATE "Incident" AS i SET
        "anomalyCount" = i."anomalyCount" + c."joined",
        "lastAnomalyAt" = c."latest"::timestamp(3),
        "lastSeenAt" = ${this.now.toISOString()}::timestamp(3),
        "severity" = COALESCE(c."severity"::"Severity", i."severity"),
        "status" = CASE WHEN c."reopened" THEN 'OPEN'::"IncidentStatus" ELSE i."status" END,
        "resolvedAt" = CASE WHEN c."reopened" THEN NULL ELSE i."resolvedAt" END,
        "acknowledgedAt" = CASE WHEN c."reopened" THEN NULL ELSE i."acknowledgedAt" END
      FROM unnest(${ids}::text[], ${joined}::int[], ${latest}::text[], ${severity}::text[], ${reopened}::boolean[])
        AS c("id", "joined", "latest", "severity", "reopened")
      WHERE i."id" = c."id"`;
  }

  private note(incidentId: string, entries: TimelineEntry[]): void {
    for (const entry of entries) this.timeline.push({ incidentId, at: this.now, ...entry });
  }
}
