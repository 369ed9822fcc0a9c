import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How an audit entry's hash is computed. Format 1 (before migration 0009) is
 * an unkeyed SHA-256: it proves order, but anyone with write access to the
 * table can recompute it. Format 2 is an HMAC-SHA256 under the audit key, so
 * only a holder of the key can produce a valid entry.
 */
export const AUDIT_FORMAT = { legacySha256: 1, keyedHmac: 2 } as const;
export type AuditFormat = (typeof AUDIT_FORMAT)[keyof typeof AUDIT_FORMAT];

export const GENESIS_HASH = '0'.repeat(64);

/** The columns an entry's hash covers, as read back from PostgreSQL. */
export interface HashedContent {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  detail: unknown;
  outcome: string;
}

/** JSON with object keys sorted at every depth: JSONB does not keep key order. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  // JSON.stringify throws on a bigint; format-1 hashes never held one, so this changes none of them.
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function contentJson(entry: HashedContent): string {
  return canonicalJson({
    id: entry.id,
    at: entry.at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    detail: entry.detail ?? null,
    outcome: entry.outcome,
  });
}

/** Format 1, kept exactly as it was so chains written before 0009 still verify. */
export function entryHash(prevHash: string, entry: HashedContent): string {
  return createHash('sha256').update(prevHash).update('\n').update(contentJson(entry)).digest('hex');
}

/**
 * Format 2. The label keeps an entry MAC from ever being replayed as a head
 * MAC (or the reverse), and the format is inside the MAC so an entry cannot be
 * relabelled as legacy and recomputed with plain SHA-256.
 */
export function entryMac(key: Buffer, prevHash: string, entry: HashedContent): string {
  return createHmac('sha256', key)
    .update(`vigil-audit-entry\nformat=${AUDIT_FORMAT.keyedHmac}\n${prevHash}\n`)
    .update(contentJson(entry))
    .digest('hex');
}

/** The head of the chain, kept outside the audit table so deleting its last entries shows. */
export interface HeadState {
  chainId: string;
  seq: bigint;
  hash: string;
  count: bigint;
  /** The last format-1 entry; a format-1 entry after it is a downgrade. 0: none. */
  legacyThrough: bigint;
}

export function headMac(key: Buffer, head: HeadState): string {
  return createHmac('sha256', key)
    .update(`vigil-audit-head\n${head.chainId}|${head.seq}|${head.hash}|${head.count}|${head.legacyThrough}`)
    .digest('hex');
}

/** Constant-time, so verifying does not tell an attacker how much of a forged MAC was right. */
export function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
