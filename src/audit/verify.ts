import type { Db } from '../store/db.ts';
import type { AuditEntry } from '../generated/prisma/client.ts';
import { AUDIT_FORMAT, entryHash, entryMac, GENESIS_HASH, headMac, sameHex } from './chain.ts';
import { readHead, readWitness, type StoredHead } from './head.ts';
import type { AuditSecrets } from './key.ts';

export interface AuditVerification {
  ok: boolean;
  checked: number;
  /** The first entry whose chain does not hold, and why. */
  firstBad?: { seq: string; id: string; problem: string };
  /** What is wrong with the chain as a whole: its end, its head. */
  chainProblem?: string;
  /** Entries written before the keyed format: they prove order, not authorship. */
  legacy?: { firstSeq: string; lastSeq: string; count: number };
  /** The anchor the chain's end was checked against. */
  head?: { seq: string; count: string; signed: boolean };
}

interface Walk {
  prevHash: string;
  count: bigint;
  lastSeq: bigint | undefined;
  sawKeyed: boolean;
  headSeen: boolean;
  witnessSeen: boolean;
  legacy: AuditVerification['legacy'];
}

/**
 * Walks the whole chain in order, in pages: every link, every hash (format 1)
 * or MAC (format 2), then the end of the chain against the head kept in
 * AuditHead and the copy of it kept outside the database.
 */
export async function verifyAuditChain(db: Db, secrets: AuditSecrets, pageSize = 1000): Promise<AuditVerification> {
  const key = await secrets.key();
  let head = await readHead(db);
  const witness = head ? await readWitness(secrets.witnessDir, head.chainId) : undefined;
  // The copy is written after commit: one newer than the head read first is a concurrent append, not a rollback.
  if (head && witness && witness.seq > head.seq) head = await readHead(db);
  const problems: string[] = [];
  if (head?.mac && !sameHex(head.mac, headMac(key, head))) problems.push('the head anchor (AuditHead) does not match its MAC: edited, or signed with another key');
  const trustedWitness = witness?.mac && sameHex(witness.mac, headMac(key, witness)) ? witness : undefined;
  if (witness && !trustedWitness) problems.push(`the copy of the head in ${secrets.witnessDir} does not verify with this key`);
  if (head && trustedWitness && trustedWitness.seq > head.seq) {
    problems.push(`the head was rolled back: it is at #${head.seq} but the copy kept outside the database says the chain reached #${trustedWitness.seq}`);
  }

  const walk: Walk = { prevHash: GENESIS_HASH, count: 0n, lastSeq: undefined, sawKeyed: false, headSeen: false, witnessSeen: false, legacy: undefined };
  let afterSeq: bigint | undefined;
  for (;;) {
    const page = await db.auditEntry.findMany({ where: afterSeq === undefined ? {} : { seq: { gt: afterSeq } }, orderBy: { seq: 'asc' }, take: pageSize });
    for (const entry of page) {
      const problem = checkEntry(entry, walk, key, head) ?? checkAnchors(entry, walk, head, trustedWitness);
      if (problem) return result(walk, head, problems, { seq: entry.seq.toString(), id: entry.id, problem });
      walk.prevHash = entry.hash;
      walk.lastSeq = entry.seq;
    }
    if (page.length < pageSize) break;
    afterSeq = page[page.length - 1]!.seq;
  }
  const end = walk.lastSeq === undefined ? 'the chain is empty' : `the chain ends at #${walk.lastSeq}`;
  if (head && !walk.headSeen) problems.push(`${end} but its head was #${head.seq}: entries were deleted from the end`);
  // Said once: when the head already showed the end is missing, the copy's view adds nothing.
  if (trustedWitness && !walk.witnessSeen && trustedWitness.seq > 0n && (!head || walk.headSeen)) {
    problems.push(`${end} but the copy of its head kept outside the database says it reached #${trustedWitness.seq}`);
  }
  if (walk.sawKeyed && !head) problems.push('keyed entries exist but the head anchor (AuditHead) is missing');
  if (walk.sawKeyed && head && !head.mac) problems.push('keyed entries exist but the head anchor (AuditHead) is unsigned');
  return result(walk, head, problems);
}

function checkEntry(entry: AuditEntry, walk: Walk, key: Buffer, head: StoredHead | null): string | undefined {
  walk.count++;
  if (entry.prevHash !== walk.prevHash) return 'does not follow the previous entry (an entry before it was deleted, inserted or reordered)';
  if (entry.format === AUDIT_FORMAT.legacySha256) {
    if (walk.sawKeyed || (head?.mac && entry.seq > head.legacyThrough)) {
      return 'is in the unkeyed legacy format after the keyed format began (downgraded, to be recomputed without the key)';
    }
    if (entryHash(walk.prevHash, entry) !== entry.hash) return 'its content does not match its hash (edited)';
    walk.legacy = { firstSeq: walk.legacy?.firstSeq ?? entry.seq.toString(), lastSeq: entry.seq.toString(), count: (walk.legacy?.count ?? 0) + 1 };
    return undefined;
  }
  if (entry.format === AUDIT_FORMAT.keyedHmac) {
    walk.sawKeyed = true;
    if (!sameHex(entryMac(key, walk.prevHash, entry), entry.hash)) return 'its content does not match its MAC (edited, or written with another key)';
    return undefined;
  }
  return `has an unknown format (${entry.format})`;
}

/** The entries the head and its copy name must be in the chain, with the hash and position they recorded. */
function checkAnchors(entry: AuditEntry, walk: Walk, head: StoredHead | null, witness: StoredHead | undefined): string | undefined {
  for (const [anchor, name] of [
    [head, 'the head'],
    [witness, 'the copy of the head kept outside the database'],
  ] as const) {
    if (!anchor || entry.seq !== anchor.seq) continue;
    if (!sameHex(entry.hash, anchor.hash)) return `is not the entry ${name} recorded (replaced)`;
    if (walk.count !== anchor.count) return `is entry ${walk.count} of the chain, but ${name} recorded it as entry ${anchor.count} (entries before it were deleted)`;
    if (anchor === head) walk.headSeen = true;
    else walk.witnessSeen = true;
  }
  return undefined;
}

function result(walk: Walk, head: StoredHead | null, problems: string[], firstBad?: AuditVerification['firstBad']): AuditVerification {
  return {
    ok: !firstBad && problems.length === 0,
    // The entry found bad was counted when reached: the ones before it verified.
    checked: Number(walk.count) - (firstBad ? 1 : 0),
    ...(firstBad ? { firstBad } : {}),
    ...(problems.length > 0 ? { chainProblem: problems.join('; ') } : {}),
    ...(walk.legacy ? { legacy: walk.legacy } : {}),
    ...(head ? { head: { seq: head.seq.toString(), count: head.count.toString(), signed: head.mac !== null } } : {}),
  };
}

/** What `vigil audit verify` prints: one line per finding, the problem first. */
export function verificationReport(result: AuditVerification): string[] {
  const lines: string[] = [];
  if (result.firstBad) lines.push(`audit: BROKEN at entry #${result.firstBad.seq} (${result.firstBad.id}): ${result.firstBad.problem}`);
  if (result.chainProblem) lines.push(`audit: BROKEN: ${result.chainProblem}`);
  if (result.firstBad) lines.push(`audit: ${result.checked} entries before it verified`);
  else if (!result.ok) lines.push(`audit: each of the ${result.checked} entries present verified, but the chain as a whole does not`);
  else lines.push(`audit: chain intact (${result.checked} entries)`);
  if (result.legacy) {
    const { firstSeq, lastSeq, count } = result.legacy;
    lines.push(
      `audit: entries #${firstSeq}..#${lastSeq} (${count}) predate the keyed format (format 1): unkeyed, they prove order but not authorship`,
    );
  }
  if (result.ok && result.head) {
    lines.push(`audit: the chain ends at its ${result.head.signed ? 'signed' : 'unsigned (legacy)'} head, #${result.head.seq} (${result.head.count} entries)`);
  }
  return lines;
}
