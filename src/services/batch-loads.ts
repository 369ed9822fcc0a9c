import type {
  Anomaly,
  ApiKey,
  AuditEntry,
  DeadLetter,
  Detector,
  DetectorVersion,
  Incident,
  IncidentEvent,
  Runbook,
  RunbookExecution,
  Silence,
  Sla,
  StepExecution,
  Stream,
} from '../generated/prisma/client.ts';
import { Prisma, type Db } from '../store/db.ts';
import { type DetectorStats, userDetectors } from './detectors.ts';
import { DEFAULT_LIST_ORDER, paginate, parsePage, type Connection, type OrderedPageArgs, type PageArgs } from './pagination.ts';

/**
 * Rows that GraphQL fields read for many parents at once (the schema's
 * DataLoaders batch them): one statement per kind of row whatever the number
 * of parents, so a nested list costs a bounded number of queries instead of
 * one per parent row. By-id lookups return the rows found, in any order (the
 * loader matches them to keys); per-parent lists come back aligned with the
 * keys asked for.
 */
export class BatchLoadService {
  constructor(private readonly db: Db) {}

  streams(ids: readonly string[]): Promise<Stream[]> {
    return this.db.stream.findMany({ where: { id: { in: [...ids] } } });
  }

  detectors(ids: readonly string[]): Promise<Detector[]> {
    return this.db.detector.findMany({ where: { id: { in: [...ids] } } });
  }

  slas(ids: readonly string[]): Promise<Sla[]> {
    return this.db.sla.findMany({ where: { id: { in: [...ids] } } });
  }

  silences(ids: readonly string[]): Promise<Silence[]> {
    return this.db.silence.findMany({ where: { id: { in: [...ids] } } });
  }

  runbooks(ids: readonly string[]): Promise<Runbook[]> {
    return this.db.runbook.findMany({ where: { id: { in: [...ids] } } });
  }

  executions(ids: readonly string[]): Promise<RunbookExecution[]> {
    return this.db.runbookExecution.findMany({ where: { id: { in: [...ids] } } });
  }

  anomalies(ids: readonly string[]): Promise<Anomaly[]> {
    return this.db.anomaly.findMany({ where: { id: { in: [...ids] } } });
  }

  incidents(ids: readonly string[]): Promise<Incident[]> {
    return this.db.incident.findMany({ where: { id: { in: [...ids] } } });
  }

  deadLetters(ids: readonly string[]): Promise<DeadLetter[]> {
    return this.db.deadLetter.findMany({ where: { id: { in: [...ids] } } });
  }

  apiKeys(ids: readonly string[]): Promise<ApiKey[]> {
    return this.db.apiKey.findMany({ where: { id: { in: [...ids] } } });
  }

  auditEntries(ids: readonly string[]): Promise<AuditEntry[]> {
    return this.db.auditEntry.findMany({ where: { id: { in: [...ids] } } });
  }

  /** The current version of each detector, aligned with `detectors`. */
  async currentVersions(detectors: readonly Pick<Detector, 'id' | 'currentVersion'>[]): Promise<(DetectorVersion | Error)[]> {
    const rows = await this.db.detectorVersion.findMany({
      where: { OR: detectors.map((d) => ({ detectorId: d.id, version: d.currentVersion })) },
    });
    const byKey = new Map(rows.map((row) => [`${row.detectorId}@${row.version}`, row]));
    return detectors.map((d) => byKey.get(`${d.id}@${d.currentVersion}`) ?? new Error(`detector ${d.id} has no version ${d.currentVersion}`));
  }

  /** Each stream's detectors (not its SLAs' own), oldest first; archived ones only when asked for. */
  async detectorsFor(streamIds: readonly string[], includeArchived: boolean): Promise<Detector[][]> {
    const rows = await this.db.detector.findMany({ where: { streamId: { in: [...streamIds] }, ...userDetectors(includeArchived) }, orderBy: { id: 'asc' } });
    return groupedBy(streamIds, rows, (row) => row.streamId);
  }

  /** Each stream's SLAs, oldest first; archived ones only when asked for. */
  async slasFor(streamIds: readonly string[], includeArchived: boolean): Promise<Sla[][]> {
    const rows = await this.db.sla.findMany({ where: { streamId: { in: [...streamIds] }, ...(includeArchived ? {} : { archivedAt: null }) }, orderBy: { id: 'asc' } });
    return groupedBy(streamIds, rows, (row) => row.streamId);
  }

  /** Each detector's versions, oldest first. */
  async versionsFor(detectorIds: readonly string[]): Promise<DetectorVersion[][]> {
    const rows = await this.db.detectorVersion.findMany({ where: { detectorId: { in: [...detectorIds] } }, orderBy: [{ detectorId: 'asc' }, { version: 'asc' }] });
    return groupedBy(detectorIds, rows, (row) => row.detectorId);
  }

  /** Each detector's anomalies counted by label, and its precision over the labelled ones (null before any label). */
  async statsFor(detectorIds: readonly string[]): Promise<DetectorStats[]> {
    const grouped = await this.db.anomaly.groupBy({ by: ['detectorId', 'label'], where: { detectorId: { in: [...detectorIds] } }, _count: { _all: true } });
    return detectorIds.map((detectorId) => {
      let anomalies = 0;
      let truePositives = 0;
      let falsePositives = 0;
      for (const row of grouped) {
        if (row.detectorId !== detectorId) continue;
        anomalies += row._count._all;
        if (row.label === 'TRUE_POSITIVE') truePositives = row._count._all;
        if (row.label === 'FALSE_POSITIVE') falsePositives = row._count._all;
      }
      const labelled = truePositives + falsePositives;
      return { anomalies, truePositives, falsePositives, precision: labelled === 0 ? null : truePositives / labelled };
    });
  }

  /** Each incident's timeline, oldest entry first. */
  async timelineFor(incidentIds: readonly string[]): Promise<IncidentEvent[][]> {
    const rows = await this.db.incidentEvent.findMany({ where: { incidentId: { in: [...incidentIds] } }, orderBy: { id: 'asc' } });
    return groupedBy(incidentIds, rows, (row) => row.incidentId);
  }

  /** Each incident's runbook executions, oldest first. */
  async executionsFor(incidentIds: readonly string[]): Promise<RunbookExecution[][]> {
    const rows = await this.db.runbookExecution.findMany({ where: { incidentId: { in: [...incidentIds] } }, orderBy: { id: 'asc' } });
    return groupedBy(incidentIds, rows, (row) => row.incidentId);
  }

  /** Each execution's steps, in order. */
  async stepsFor(executionIds: readonly string[]): Promise<StepExecution[][]> {
    const rows = await this.db.stepExecution.findMany({
      where: { executionId: { in: [...executionIds] } },
      orderBy: [{ executionId: 'asc' }, { index: 'asc' }],
    });
    return groupedBy(executionIds, rows, (row) => row.executionId);
  }

  /**
   * The same page (`first` after `after`, oldest first) of each incident's
   * anomalies: at most first + 1 rows per incident are read (the extra one
   * tells whether a next page exists), ranked per incident in the database.
   */
  async anomaliesFor(incidentIds: readonly string[], args: PageArgs): Promise<Connection<Anomaly>[]> {
    const ids = await this.rankedPage('Anomaly', 'incidentId', incidentIds, args, false);
    const rows = ids.length === 0 ? [] : await this.db.anomaly.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
    return Promise.all(groupedBy(incidentIds, rows, (row) => row.incidentId).map((pageRows) => paginate(args, async () => pageRows)));
  }

  /** The same page of each runbook's executions, newest first unless `orderBy` says otherwise, as anomaliesFor reads them. */
  async executionsOfRunbooks(runbookIds: readonly string[], args: OrderedPageArgs): Promise<Connection<RunbookExecution>[]> {
    const newestFirst = (args.orderBy ?? DEFAULT_LIST_ORDER) === 'NEWEST_FIRST';
    const ids = await this.rankedPage('RunbookExecution', 'runbookId', runbookIds, args, newestFirst);
    const rows = ids.length === 0 ? [] : await this.db.runbookExecution.findMany({ where: { id: { in: ids } }, orderBy: { id: newestFirst ? 'desc' : 'asc' } });
    return Promise.all(groupedBy(runbookIds, rows, (row) => row.runbookId).map((pageRows) => paginate(args, async () => pageRows)));
  }

  /** The ids of the page each parent would get alone: at most first + 1 per parent, after the cursor, ranked in the database. */
  private async rankedPage(table: 'Anomaly' | 'RunbookExecution', parent: 'incidentId' | 'runbookId', parentIds: readonly string[], args: PageArgs, newestFirst: boolean): Promise<string[]> {
    const page = parsePage(args);
    const after = page.afterId === undefined ? Prisma.empty : newestFirst ? Prisma.sql`AND "id" < ${page.afterId}` : Prisma.sql`AND "id" > ${page.afterId}`;
    // Identifiers come from the literal types above, never from input.
    const ranked = await this.db.$queryRaw<{ id: string }[]>`
      SELECT "id" FROM (
        SELECT "id", row_number() OVER (PARTITION BY ${Prisma.raw(`"${parent}"`)} ORDER BY "id" ${Prisma.raw(newestFirst ? 'DESC' : 'ASC')}) AS "rank"
        FROM ${Prisma.raw(`"${table}"`)} WHERE ${Prisma.raw(`"${parent}"`)} = ANY(${[...parentIds]}::text[]) ${after}
      ) AS "pages" WHERE "rank" <= ${page.take + 1}`;
    return ranked.map((row) => row.id);
  }
}

function groupedBy<T>(keys: readonly string[], rows: T[], keyOf: (row: T) => string | null): T[][] {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) {
    const key = keyOf(row);
    if (key !== null) groups.get(key)?.push(row);
  }
  return keys.map((key) => groups.get(key) ?? []);
}
