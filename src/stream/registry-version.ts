import type { Db } from '../store/db.ts';

interface Read {
  startedAt: number;
  version: Promise<string>;
}

/**
 * A counter bumped by every change to streams and detectors. Workers compare
 * it with the version their catalog was loaded at before scoring events
 * produced after that load, so a detector registered before its events
 * arrive always sees them (a timer alone would leave a window).
 *
 * It lives in PostgreSQL (one row, migration 0011), not Redis: the worker
 * asks before a batch, and detection must go on while Redis is down.
 */
export class RegistryVersion {
  private last: Read | undefined;

  /** `db` is the services' ambient handle: a bump inside a mutation joins its transaction. */
  constructor(private readonly db: Db) {}

  /**
   * Inside a mutation's transaction the new version commits with the change:
   * no worker can see one without the other. Concurrent registry changes
   * queue on this row until the first commits, which they are rare enough to afford.
   */
  async bump(): Promise<void> {
    await this.db.$executeRaw`UPDATE "RegistryVersion" SET "version" = "version" + 1`;
  }

  /**
   * The version as read by a query started after `since` (epoch ms):
   * batches of several partitions arriving together share one read, and a
   * batch whose events all predate the last read needs no query at all.
   */
  current(since = Date.now()): Promise<string> {
    const last = this.last;
    if (last && last.startedAt > since) return last.version;
    const startedAt = Date.now();
    const version = this.db.$queryRaw<{ version: bigint }[]>`SELECT "version" FROM "RegistryVersion"`.then((rows) => String(rows[0]?.version ?? 0n));
    const read = { startedAt, version };
    this.last = read;
    // A failed read must not answer the next caller.
    version.catch(() => {
      if (this.last === read) this.last = undefined;
    });
    return version;
  }
}
