import { createHash } from 'node:crypto';
import type { Db } from '../db.ts';
import type { AuditEntry } from '../generated/prisma/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { newId } from '../ids.ts';

/**
 * A hash-chained audit log: each entry's hash covers its content and the
 * previous entry's hash, so editing, deleting or reordering an entry breaks
 * the chain from there on. Appends are serialised by an advisory lock so two
 * gateways never chain onto the same predecessor.
 */
const AUDIT_LOCK = 0x61_75_64_74; // "audt"
export const GENESIS_HASH = '0'.repeat(64);

export type AuditOutcome = 'ALLOWED' | 'REFUSED' | 'FAILED';

export interface AuditRecord {
  actor: string;
  action: string;
  target: string;
  detail?: unknown;
  outcome: AuditOutcome;
}

/** JSON with object keys sorted at every depth: JSONB does not keep key order. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function entryHash(
  prevHash: string,
  entry: { id: string; at: Date; actor: string; action: string; target: string; detail: unknown; outcome: string },
): string {
  const content = canonicalJson({
    id: entry.id,
    at: entry.at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    detail: entry.detail ?? null,
    outcome: entry.outcome,
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  /** The first entry whose chain does not hold, and why. */
  firstBad?: { seq: string; id: string; problem: string };
}

export class AuditLog {
  constructor(private readonly db: Db) {}

  async append(record: AuditRecord): Promise<AuditEntry> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`;
      const last = await tx.auditEntry.findFirst({ orderBy: { seq: 'desc' }, select: { hash: true } });
      const prevHash = last?.hash ?? GENESIS_HASH;
      const id = newId('AuditEntry');
      // Millisecond precision: the column is TIMESTAMP(3), and the hash must survive the round trip.
      const at = new Date(Math.floor(Date.now()));
      const detail = record.detail === undefined ? null : JSON.parse(canonicalJson(record.detail));
      const hash = entryHash(prevHash, { id, at, ...record, detail });
      return tx.auditEntry.create({
        data: {
          id,
          at,
          actor: record.actor,
          action: record.action,
          target: record.target,
          detail: detail === null ? Prisma.JsonNull : detail,
          outcome: record.outcome,
          prevHash,
          hash,
        },
      });
    });
  }

  /** Walks the whole chain in order, in pages, recomputing every hash. */
  async verify(pageSize = 1000): Promise<AuditVerification> {
    let prevHash = GENESIS_HASH;
    let checked = 0;
    let afterSeq: bigint | undefined;
    for (;;) {
      const page = await this.db.auditEntry.findMany({
        where: afterSeq === undefined ? {} : { seq: { gt: afterSeq } },
        orderBy: { seq: 'asc' },
        take: pageSize,
      });
      for (const entry of page) {
        const bad = (problem: string): AuditVerification => ({
          ok: false,
          checked,
          firstBad: { seq: entry.seq.toString(), id: entry.id, problem },
        });
        if (entry.prevHash !== prevHash) {
          return bad('does not follow the previous entry (an entry before it was deleted, inserted or reordered)');
        }
        if (entryHash(prevHash, entry) !== entry.hash) return bad('its content does not match its hash (edited)');
        prevHash = entry.hash;
        checked++;
      }
      if (page.length < pageSize) return { ok: true, checked };
      afterSeq = page[page.length - 1]!.seq;
    }
  }
}
