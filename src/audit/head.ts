import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../store/db.ts';
import type { Tx } from '../store/ambient-transaction.ts';
import { AUDIT_FORMAT, GENESIS_HASH, headMac, type HeadState } from './chain.ts';

export interface StoredHead extends HeadState {
  /** Null: the unsigned placeholder migration 0009 leaves over a legacy chain. */
  mac: string | null;
}

/** What a new entry chains onto, read under the audit lock. */
export interface Predecessor {
  chainId: string;
  prevHash: string;
  count: bigint;
  legacyThrough: bigint;
}

export class AuditTamperedError extends Error {
  constructor(message: string) {
    super(`${message}: the audit table was tampered with; run "vigil audit verify"`);
    this.name = 'AuditTamperedError';
  }
}

export async function readHead(db: Db | Tx): Promise<StoredHead | null> {
  return db.auditHead.findUnique({ where: { id: 1 }, select: { chainId: true, seq: true, hash: true, count: true, legacyThrough: true, mac: true } });
}

/**
 * The new entry follows the signed head, not whatever row is last: if the
 * last entries were deleted, the next entry still points at the missing one,
 * so the deletion stays visible instead of being papered over.
 */
export async function predecessorFor(tx: Tx): Promise<Predecessor> {
  const head = await readHead(tx);
  if (head?.mac) return { chainId: head.chainId, prevHash: head.hash, count: head.count, legacyThrough: head.legacyThrough };
  // No signed head yet: everything so far is legacy, unless someone removed the head to hide a deletion.
  const keyed = await tx.auditEntry.findFirst({ where: { format: { not: AUDIT_FORMAT.legacySha256 } }, select: { seq: true } });
  if (keyed) throw new AuditTamperedError(`the audit head is ${head ? 'unsigned' : 'missing'} although keyed entry #${keyed.seq} exists`);
  const last = await tx.auditEntry.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
  return {
    chainId: head?.chainId ?? randomUUID(),
    prevHash: last?.hash ?? GENESIS_HASH,
    count: BigInt(await tx.auditEntry.count()),
    legacyThrough: last?.seq ?? 0n,
  };
}

/**
 * Seals the head's entry (its hash, computed from the row as stored) and
 * writes the signed head, in one statement: the audit append runs inside
 * every audited mutation, and each Prisma statement there costs 0.2-0.4 ms
 * of CPU.
 */
export async function sealEntry(tx: Tx, key: Buffer, head: HeadState): Promise<StoredHead> {
  const signed = { ...head, mac: headMac(key, head) };
  const now = new Date().toISOString();
  // Timestamps travel as ISO text: a timestamp column takes the UTC wall time and ignores the "Z", as Prisma stores it.
  await tx.$executeRaw`
    WITH sealed AS (UPDATE "AuditEntry" SET "hash" = ${signed.hash} WHERE "seq" = ${signed.seq}::bigint)
    INSERT INTO "AuditHead" ("id", "chainId", "seq", "hash", "count", "legacyThrough", "mac", "updatedAt")
    VALUES (1, ${signed.chainId}, ${signed.seq}::bigint, ${signed.hash}, ${signed.count}::bigint, ${signed.legacyThrough}::bigint, ${signed.mac}, ${now}::timestamp(3))
    ON CONFLICT ("id") DO UPDATE SET
      "chainId" = EXCLUDED."chainId", "seq" = EXCLUDED."seq", "hash" = EXCLUDED."hash", "count" = EXCLUDED."count",
      "legacyThrough" = EXCLUDED."legacyThrough", "mac" = EXCLUDED."mac", "updatedAt" = EXCLUDED."updatedAt"`;
  return signed;
}

// The chain id names a file: only a UUID may, whatever the database says.
const CHAIN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function witnessPath(dir: string, chainId: string): string | undefined {
  return CHAIN_ID.test(chainId) ? join(dir, `${chainId}.json`) : undefined;
}

/**
 * A copy of the head outside the database (the state directory): someone
 * able to write the database could put back an older signed head after
 * deleting the entries since; the copy remembers how far the chain reached.
 * It is a lower bound: written after commit, best effort, and only by the
 * processes of this host.
 */
export async function readWitness(dir: string | undefined, chainId: string): Promise<StoredHead | undefined> {
  const path = dir && witnessPath(dir, chainId);
  if (!path) return undefined;
  let raw: Record<string, string>;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`the audit head copy ${path} is unreadable: ${(error as Error).message}`);
  }
  return {
    chainId: String(raw.chainId),
    seq: BigInt(raw.seq ?? '0'),
    hash: String(raw.hash),
    count: BigInt(raw.count ?? '0'),
    legacyThrough: BigInt(raw.legacyThrough ?? '0'),
    mac: raw.mac ?? null,
  };
}

export async function writeWitness(dir: string | undefined, head: StoredHead): Promise<void> {
  const path = dir && witnessPath(dir, head.chainId);
  if (!path) return;
  const current = await readWitness(dir, head.chainId).catch(() => undefined);
  if (current && current.seq >= head.seq) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const body = { ...head, seq: head.seq.toString(), count: head.count.toString(), legacyThrough: head.legacyThrough.toString() };
  try {
    await writeFile(temporary, `${JSON.stringify(body)}\n`, { mode: 0o600 });
    // rename() replaces atomically: a reader sees the old copy or the new one, never half of one.
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
  await pruneOtherChains(dir, head.chainId);
}

const STALE_COPY_MS = 90 * 24 * 3600 * 1000;

/**
 * A recreated database starts a new chain (a new chain id): on a development
 * or test machine copies of dropped chains would pile up. A deployment has
 * one chain per state directory, so this never removes a live one.
 */
const prunedThisProcess = new Set<string>();

async function pruneOtherChains(dir: string, keep: string): Promise<void> {
  // Once per process is plenty for copies that only go stale over months.
  if (prunedThisProcess.has(dir)) return;
  prunedThisProcess.add(dir);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json') || name === `${keep}.json`) continue;
    const path = join(dir, name);
    const modified = await stat(path).then((s) => s.mtimeMs, () => Date.now());
    if (Date.now() - modified > STALE_COPY_MS) await rm(path, { force: true });
  }
}
