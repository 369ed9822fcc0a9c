import type { Db } from '../store/db.ts';
import type { Detector, Runbook, Sla, Stream } from '../generated/prisma/client.ts';
import { BadUserInputError, NotFoundError } from '../core/errors.ts';
import type { RegistryVersion } from '../stream/registry-version.ts';

/** The things that can be archived, by their GraphQL type name. */
interface ArchivableRows {
  Stream: Stream;
  Detector: Detector;
  Sla: Sla;
  Runbook: Runbook;
}
export type ArchivableKind = keyof ArchivableRows;

interface ArchivableRow {
  id: string;
  archivedAt: Date | null;
}

/** One table's part in archiving: reading a row and setting its mark. */
interface ArchivableTable<T extends ArchivableRow> {
  label: string;
  find(id: string): Promise<(T & { slaId?: string | null }) | null>;
  mark(id: string, archivedAt: Date | null): Promise<T>;
  /** Whether workers must reload the registry to see the change (what they consume and run). */
  running: boolean;
}

/**
 * Archiving instead of deleting: an archived stream is not consumed, an
 * archived detector not run, an archived SLA not evaluated, an archived
 * runbook not triggered; all leave default lists but keep their history
 * (versions, anomalies, incidents, executions) and every lineage that names
 * them, and come back as they were with restore. Streams and detectors are
 * what workers run, so a change to them bumps the registry version they
 * watch (registry-version.ts); SLA evaluation and runbook planning read the
 * mark at every run.
 */
export class LifecycleService {
  private readonly tables: { [K in ArchivableKind]: ArchivableTable<ArchivableRows[K]> };

  constructor(
    private readonly db: Db,
    private readonly registry: RegistryVersion,
  ) {
    this.tables = {
      Stream: {
        label: 'stream',
        find: (id) => this.db.stream.findUnique({ where: { id } }),
        mark: (id, archivedAt) => this.db.stream.update({ where: { id }, data: { archivedAt } }),
        running: true,
      },
      Detector: {
        label: 'detector',
        find: async (id) => {
          const detector = await this.db.detector.findUnique({ where: { id }, include: { sla: { select: { id: true } } } });
          return detector ? { ...detector, slaId: detector.sla?.id ?? null } : null;
        },
        mark: (id, archivedAt) => this.db.detector.update({ where: { id }, data: { archivedAt } }),
        running: true,
      },
      Sla: {
        label: 'SLA',
        find: (id) => this.db.sla.findUnique({ where: { id } }),
        mark: (id, archivedAt) => this.db.sla.update({ where: { id }, data: { archivedAt } }),
        running: false,
      },
      Runbook: {
        label: 'runbook',
        find: (id) => this.db.runbook.findUnique({ where: { id } }),
        mark: (id, archivedAt) => this.db.runbook.update({ where: { id }, data: { archivedAt } }),
        running: false,
      },
    };
  }

  archive<K extends ArchivableKind>(kind: K, id: string): Promise<ArchivableRows[K]> {
    return this.setArchived(kind, id, true) as Promise<ArchivableRows[K]>;
  }

  restore<K extends ArchivableKind>(kind: K, id: string): Promise<ArchivableRows[K]> {
    return this.setArchived(kind, id, false) as Promise<ArchivableRows[K]>;
  }

  private async setArchived(kind: ArchivableKind, id: string, archive: boolean): Promise<ArchivableRow> {
    const table = this.tables[kind] as ArchivableTable<ArchivableRow>;
    const row = await table.find(id);
    if (!row) throw new NotFoundError(table.label, id, 'id');
    if (row.slaId) {
      // The companion lives and goes with its SLA: archived alone, the SLA would record breaches nowhere.
      throw new BadUserInputError('id', `this detector records the breaches of SLA ${row.slaId}; archive or restore the SLA instead`);
    }
    if (archive && row.archivedAt) throw new BadUserInputError('id', `the ${table.label} is already archived (since ${row.archivedAt.toISOString()})`);
    if (!archive && !row.archivedAt) throw new BadUserInputError('id', `the ${table.label} is not archived`);
    const updated = await table.mark(id, archive ? new Date() : null);
    if (table.running) await this.registry.bump();
    return updated;
  }
}
