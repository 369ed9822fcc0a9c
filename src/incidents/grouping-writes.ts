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
  private created = new Map<string, NewIncident & { anomalyCount: number }>();
  private changed = new Map<string, Change>();
  private timeline: (TimelineEntry & { incidentId: string })[] = [];
  /** Anomaly id -> its incident's id. */
  private members = new Map<string, string>();

  constructor(private readonly now: Date) {}

  open(incident: NewIncident, entries: TimelineEntry[]): HeadState {
    this.created.set(incident.id, { ...incident, anomalyCount: 1 });
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
      created.anomalyCount += 1;
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

  /**
   * Everything gathered, in one statement of data-modifying CTEs: incidents
   * opened, incidents joined, the timeline (in the order it happened) and the
   * anomalies' incidents. The foreign keys of the anomalies and the timeline
   * are checked at the end of the statement, when the incidents it opens
   * exist. Each Prisma statement costs the worker 0.2-0.4 ms of CPU (a scratch
   * measurement), so four of them per batch were a visible share of its cost.
   */
  async flush(tx: Tx): Promise<void> {
    if (this.members.size === 0 && this.timeline.length === 0 && this.created.size === 0 && this.changed.size === 0) return;
    const now = this.now.toISOString();
    const opened = [...this.created.values()];
    const changes = [...this.changed.values()];
    // Timestamps travel as ISO text: a timestamp column takes the UTC wall time and ignores the "Z", as Prisma stores it.
    await tx.$executeRaw`
      WITH opened AS (
        INSERT INTO "Incident" ("id", "title", "status", "severity", "streamId", "groupKey", "detectorId", "seriesKey", "anomalyCount", "openedAt", "lastAnomalyAt", "lastSeenAt")
        SELECT o."id", o."title", 'OPEN'::"IncidentStatus", o."severity"::"Severity", o."streamId", o."groupKey", o."detectorId", o."seriesKey", o."count",
          ${now}::timestamp(3), o."latest"::timestamp(3), ${now}::timestamp(3)
        FROM unnest(
          ${opened.map((o) => o.id)}::text[], ${opened.map((o) => o.title)}::text[], ${opened.map((o) => o.severity)}::text[],
          ${opened.map((o) => o.streamId)}::text[], ${opened.map((o) => o.groupKey)}::text[], ${opened.map((o) => o.detectorId)}::text[],
          ${opened.map((o) => o.seriesKey)}::text[], ${opened.map((o) => o.anomalyCount)}::int[],
          ${opened.map((o) => isoOrNull(o.lastAnomalyAt))}::text[]
        ) AS o("id", "title", "severity", "streamId", "groupKey", "detectorId", "seriesKey", "count", "latest")
      ), joined AS (
        UPDATE "Incident" AS i SET
          "anomalyCount" = i."anomalyCount" + c."joined",
          "lastAnomalyAt" = c."latest"::timestamp(3),
          "lastSeenAt" = ${now}::timestamp(3),
          "severity" = COALESCE(c."severity"::"Severity", i."severity"),
          "status" = CASE WHEN c."reopened" THEN 'OPEN'::"IncidentStatus" ELSE i."status" END,
          "resolvedAt" = CASE WHEN c."reopened" THEN NULL ELSE i."resolvedAt" END,
          "acknowledgedAt" = CASE WHEN c."reopened" THEN NULL ELSE i."acknowledgedAt" END
        FROM unnest(
          ${changes.map((c) => c.head.id)}::text[], ${changes.map((c) => c.joined)}::int[],
          ${changes.map((c) => isoOrNull(c.head.lastAnomalyAt))}::text[], ${changes.map((c) => (c.escalated ? c.head.severity : null))}::text[],
          ${changes.map((c) => c.reopened)}::boolean[]
        ) AS c("id", "joined", "latest", "severity", "reopened")
        WHERE i."id" = c."id"
      ), timeline AS (
        INSERT INTO "IncidentEvent" ("incidentId", "at", "kind", "message", "actor")
        SELECT e."incidentId", ${now}::timestamp(3), e."kind", e."message", e."actor"
        FROM unnest(
          ${this.timeline.map((e) => e.incidentId)}::text[], ${this.timeline.map((e) => e.kind)}::text[],
          ${this.timeline.map((e) => e.message)}::text[], ${this.timeline.map((e) => e.actor ?? null)}::text[]
        ) WITH ORDINALITY AS e("incidentId", "kind", "message", "actor", "n")
        ORDER BY e."n"
      ), members AS (
        UPDATE "Anomaly" AS a SET "incidentId" = m."incidentId"
        FROM unnest(${[...this.members.keys()]}::text[], ${[...this.members.values()]}::text[]) AS m("id", "incidentId")
        WHERE a."id" = m."id"
      )
      SELECT 1`;
    [this.created, this.changed, this.timeline, this.members] = [new Map(), new Map(), [], new Map()];
  }

  private note(incidentId: string, entries: TimelineEntry[]): void {
    for (const entry of entries) this.timeline.push({ incidentId, ...entry });
  }
}

function isoOrNull(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}
