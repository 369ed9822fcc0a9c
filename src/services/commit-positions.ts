import { Prisma, type Db } from '../store/db.ts';
import type { Anomaly, Incident, RunbookExecution } from '../generated/prisma/client.ts';
import { BadUserInputError } from '../core/errors.ts';

/**
 * Where a version of a row stands in commit order (migration
 * 0013_commit_positions): the seq its transaction drew as it committed, then
 * its id among the rows of that commit. A reader that sees one position sees
 * every earlier one, so "everything after my cursor" never misses a commit
 * that landed late. `id: null` stands after every row of the commit `seq`.
 */
export interface CommitPosition {
  seq: bigint;
  id: string | null;
}

interface Tables {
  Anomaly: Anomaly;
  Incident: Incident;
  RunbookExecution: RunbookExecution;
}

export type ChangeTable = keyof Tables;
export type RowOf<T extends ChangeTable> = Tables[T];

export interface Positioned<Row> {
  position: CommitPosition & { id: string };
  row: Row;
}

type Tx = Prisma.TransactionClient;

const LOADERS: { [T in ChangeTable]: (tx: Tx, ids: string[]) => Promise<Tables[T][]> } = {
  Anomaly: (tx, ids) => tx.anomaly.findMany({ where: { id: { in: ids } } }),
  Incident: (tx, ids) => tx.incident.findMany({ where: { id: { in: ids } } }),
  RunbookExecution: (tx, ids) => tx.runbookExecution.findMany({ where: { id: { in: ids } } }),
};

const EXISTING: { [T in ChangeTable]: (db: Db, ids: string[]) => Promise<{ id: string }[]> } = {
  Anomaly: (db, ids) => db.anomaly.findMany({ where: { id: { in: ids } }, select: { id: true } }),
  Incident: (db, ids) => db.incident.findMany({ where: { id: { in: ids } }, select: { id: true } }),
  RunbookExecution: (db, ids) => db.runbookExecution.findMany({ where: { id: { in: ids } }, select: { id: true } }),
};

const CURSOR_PREFIX = 'p:';

export function encodePosition(position: CommitPosition & { id: string }): string {
  return Buffer.from(`${CURSOR_PREFIX}${position.seq}:${position.id}`, 'utf8').toString('base64url');
}

export function decodePosition(cursor: string, field = 'after'): CommitPosition & { id: string } {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^p:(\d{1,19}):([A-Za-z0-9_]{1,64})$/.exec(decoded);
  if (!match) throw new BadUserInputError(field, 'is not the `cursor` of an item this subscription delivered');
  return { seq: BigInt(match[1]!), id: match[2]! };
}

/** The position after everything committed so far: where a subscription without a cursor starts. */
export async function headPosition(db: Db): Promise<CommitPosition> {
  const [row] = await db.$queryRaw<{ seq: bigint }[]>`SELECT coalesce(max("seq"), 0)::bigint AS "seq" FROM "ChangeCommit"`;
  return { seq: row?.seq ?? 0n, id: null };
}

/** An anomaly keeps its position for good (a label is no new anomaly); incidents and executions move on each change. */
const POSITION_MOVES: Record<ChangeTable, boolean> = { Anomaly: false, Incident: true, RunbookExecution: true };

/** Generous: every subscriber of a gateway may read at once after one message, through one pool. */
const SNAPSHOT_TRANSACTION = { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, maxWait: 15_000, timeout: 15_000 };

/**
 * The rows of `table` whose latest change committed after `after`, in commit
 * order, at most `limit`. A row changed twice since appears once, as it is
 * now. Where positions move, positions and rows come from one snapshot, so a
 * row is never paired with a position older than its state (which would send
 * that state again under its newer position).
 */
export async function changesAfter<T extends ChangeTable>(
  db: Db,
  table: T,
  after: CommitPosition,
  limit: number,
): Promise<Positioned<RowOf<T>>[]> {
  const later =
    after.id === null
      ? Prisma.sql`c."seq" > ${after.seq}`
      : Prisma.sql`c."seq" >= ${after.seq} AND (c."seq" > ${after.seq} OR t."id" COLLATE "C" > ${after.id})`;
  const read = async (tx: Tx) => {
    const positions = await tx.$queryRaw<{ seq: bigint; id: string }[]>`
      SELECT c."seq", t."id" FROM "ChangeCommit" c JOIN ${Prisma.raw(`"${table}"`)} t ON t."changeXid" = c."xid"
      WHERE ${later}
      ORDER BY c."seq", t."id" COLLATE "C"
      LIMIT ${limit}`;
    if (positions.length === 0) return [];
    const rows = new Map((await LOADERS[table](tx, positions.map((p) => p.id))).map((row) => [row.id, row] as const));
    return positions.flatMap(({ seq, id }) => {
      const row = rows.get(id) as RowOf<T> | undefined;
      return row ? [{ position: { seq, id }, row }] : [];
    });
  };
  return POSITION_MOVES[table] ? db.$transaction(read, SNAPSHOT_TRANSACTION) : read(db);
}

/** Which of `ids` are rows of `table`: a message about any other one came from outside PostgreSQL. */
export async function existingIds(db: Db, table: ChangeTable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  return new Set((await EXISTING[table](db, ids)).map((row) => row.id));
}
