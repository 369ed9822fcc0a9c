import type { Db } from '../store/db.ts';
import type { AuditEntry } from '../generated/prisma/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { newId } from '../core/ids.ts';
import { afterCommit, ambientTransaction, type Tx } from '../store/ambient-transaction.ts';
import { AUDIT_FORMAT, canonicalJson, entryMac } from './chain.ts';
import { predecessorFor, sealEntry, writeWitness, type StoredHead } from './head.ts';
import type { AuditSecrets } from './key.ts';
import { verifyAuditChain, type AuditVerification } from './verify.ts';
import { FORBIDDEN_KEYS, findUnsafeInput, sanitisedDetail, storableText, type SafeInputLimits } from '../core/safe-input.ts';

export { canonicalJson, entryHash, entryMac, GENESIS_HASH } from './chain.ts';
export type { AuditVerification } from './verify.ts';

/**
 * A hash-chained audit log: each entry's MAC (keyed, see audit-chain.ts)
 * covers its content and the previous entry's hash, so editing, deleting or
 * reordering an entry breaks the chain from there on; the head, kept in
 * AuditHead and outside the database, shows entries deleted from the end.
 * Appends are serialised by an advisory lock so two gateways never chain
 * onto the same predecessor.
 */
const AUDIT_LOCK = 0x61_75_64_74; // "audt"
const PENDING_HASH = 'pending';

/**
 * Looser than the edge's limits (an argument 64 deep is one level deeper
 * inside { args }), but any detail beyond them is stored as a sanitised
 * excerpt: an entry must always be writable.
 */
const STORABLE_DETAIL: SafeInputLimits = { maxDepth: 80, maxStringLength: 16 * 1024 * 1024 };

export type AuditOutcome = 'ALLOWED' | 'REFUSED' | 'FAILED';

export interface AuditRecord {
  actor: string;
  action: string;
  target: string;
  detail?: unknown;
  outcome: AuditOutcome;
}

/** The detail as it will be stored: JSON only, and never something PostgreSQL or Prisma would change or refuse. */
export function storableDetail(detail: unknown): unknown {
  if (detail === undefined || detail === null) return null;
  const unsafe = findUnsafeInput(detail, 'detail', STORABLE_DETAIL);
  if (!unsafe) return JSON.parse(canonicalJson(detail));
  // Keep the short plain facts (code, field) that say what happened, if they are themselves safe.
  const facts = Object.entries(typeof detail === 'object' && !Array.isArray(detail) ? (detail as Record<string, unknown>) : {}).filter(
    ([key, value]) =>
      ['string', 'number', 'boolean'].includes(typeof value) && !findUnsafeInput([key, value], '', { maxDepth: 2, maxStringLength: 200 }) && !FORBIDDEN_KEYS.has(key),
  );
  return sanitisedDetail(detail, unsafe, Object.fromEntries(facts));
}

export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly secrets: AuditSecrets,
  ) {}

  /**
   * In `tx` when given: the caller's transaction commits the entry with the
   * effect it records, or neither. Otherwise in a transaction of its own.
   */
  async append(record: AuditRecord, tx?: Tx): Promise<AuditEntry> {
    // Before any lock: the first call may read or create the key file.
    const key = await this.secrets.key();
    if (tx) {
      const { entry, head } = await this.appendIn(tx, key, record);
      // Only the ambient transaction says when it committed; a copy written before commit could claim an entry that rolled back.
      if (ambientTransaction() === tx) await afterCommit(() => this.keepWitness(head));
      return entry;
    }
    const { entry, head } = await this.db.$transaction((own) => this.appendIn(own, key, record));
    await this.keepWitness(head);
    return entry;
  }

  private async appendIn(tx: Tx, key: Buffer, record: AuditRecord): Promise<{ entry: AuditEntry; head: StoredHead }> {
    // As late as possible in the caller's transaction: concurrent mutations serialise on the append only.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`;
    const predecessor = await predecessorFor(tx);
    const detail = storableDetail(record.detail);
    // create() returns the row as PostgreSQL stored it (INSERT ... RETURNING every column), and the MAC covers
    // that, never the value in memory: whatever the driver or the column does to a value, the MAC covers the result.
    const stored = await tx.auditEntry.create({
      data: {
        id: newId('AuditEntry'),
        at: new Date(),
        actor: storableText(record.actor),
        action: storableText(record.action),
        target: storableText(record.target),
        detail: detail === null ? Prisma.JsonNull : (detail as Prisma.InputJsonValue),
        outcome: record.outcome,
        prevHash: predecessor.prevHash,
        hash: PENDING_HASH,
        format: AUDIT_FORMAT.keyedHmac,
      },
    });
    const hash = entryMac(key, predecessor.prevHash, stored);
    const head = await sealEntry(tx, key, {
      chainId: predecessor.chainId,
      seq: stored.seq,
      hash,
      count: predecessor.count + 1n,
      legacyThrough: predecessor.legacyThrough,
    });
    const entry: AuditEntry = { ...stored, hash };
    return { entry, head };
  }

  private async keepWitness(head: StoredHead): Promise<void> {
    // Best effort: a lost copy only weakens the rollback check, it must never fail an audited call.
    await writeWitness(this.secrets.witnessDir, head).catch((error: Error) =>
      this.secrets.log?.warn({ error: error.message, dir: this.secrets.witnessDir }, 'could not keep a copy of the audit head'),
    );
  }

  verify(pageSize = 1000): Promise<AuditVerification> {
    return verifyAuditChain(this.db, this.secrets, pageSize);
  }
}
