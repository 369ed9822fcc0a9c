import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/generated/prisma/client.ts';
import { entryHash, entryMac, headMac } from '../../src/audit/chain.ts';
import { readHead, type StoredHead } from '../../src/audit/head.ts';
import { scratchAudit, type ScratchAudit } from '../support/audit.ts';

/**
 * Someone with write access to the database (not to the audit key) tampers
 * with the chain in every way we know of; each must be caught, and named, by
 * both AuditLog.verify() and `vigil audit verify` (exit 1).
 */
let chain: ScratchAudit;
let rows: AuditEntry[];
/** The head after each append, as someone with database access could have saved it. */
let heads: StoredHead[];

beforeEach(async () => {
  chain = await scratchAudit();
  heads = [];
  for (let i = 0; i < 5; i++) {
    await chain.audit.append({ actor: `actor-${i}`, action: 'registerStream', target: `str_${i}`, detail: { b: i, a: [1, { z: true, y: null }] }, outcome: 'ALLOWED' });
    heads.push((await readHead(chain.db))!);
  }
  rows = await chain.entries();
});
afterEach(async () => {
  await chain.close();
});

const WRONG_KEY = Buffer.from('a-key-that-is-not-the-audit-key-0123456789', 'utf8');

/** Rewrites rows[from..] as a chain again: each links to the (new) previous hash, hashed by `hash`. */
async function rechain(from: number, hash: (prevHash: string, row: AuditEntry) => string, data: { format?: number } = {}): Promise<void> {
  const current = await chain.entries();
  let prevHash = current[from - 1]?.prevHash === undefined ? current[from]!.prevHash : current[from - 1]!.hash;
  for (const row of current.slice(from)) {
    const next = { ...row, ...data, prevHash };
    next.hash = hash(prevHash, next);
    await chain.db.auditEntry.update({ where: { seq: row.seq }, data: { ...data, prevHash, hash: next.hash } });
    prevHash = next.hash;
  }
}

async function editActorOf(index: number): Promise<void> {
  await chain.db.auditEntry.update({ where: { seq: rows[index]!.seq }, data: { actor: 'someone else' } });
}

type Expectation = { badEntry: number; problem: RegExp } | { chainProblem: RegExp };

const CASES: [string, () => Promise<void>, Expectation][] = [
  ['an edited entry', () => editActorOf(1), { badEntry: 1, problem: /edited/ }],
  [
    'an edited detail',
    async () => {
      await chain.db.auditEntry.update({ where: { seq: rows[0]!.seq }, data: { detail: { b: 99 } } });
    },
    { badEntry: 0, problem: /edited/ },
  ],
  [
    'two entries swapped',
    async () => {
      const [a, b] = [rows[1]!, rows[2]!];
      await chain.db.$transaction([
        chain.db.auditEntry.update({ where: { seq: a.seq }, data: { seq: -1n } }),
        chain.db.auditEntry.update({ where: { seq: b.seq }, data: { seq: a.seq } }),
        chain.db.auditEntry.update({ where: { seq: -1n }, data: { seq: b.seq } }),
      ]);
    },
    { badEntry: 2, problem: /does not follow/ },
  ],
  [
    'a middle entry deleted',
    async () => {
      await chain.db.auditEntry.delete({ where: { seq: rows[2]!.seq } });
    },
    { badEntry: 3, problem: /deleted/ },
  ],
  [
    'the last entry deleted',
    async () => {
      await chain.db.auditEntry.delete({ where: { seq: rows[4]!.seq } });
    },
    { chainProblem: /the chain ends at #4 but its head was #5/ },
  ],
  [
    'the last two entries deleted',
    async () => {
      await chain.db.auditEntry.deleteMany({ where: { seq: { gte: rows[3]!.seq } } });
    },
    { chainProblem: /the chain ends at #3 but its head was #5/ },
  ],
  [
    'every entry deleted',
    async () => {
      await chain.db.auditEntry.deleteMany({});
    },
    { chainProblem: /the chain is empty but its head was #5/ },
  ],
  [
    'an edit, every later hash recomputed with plain SHA-256',
    async () => {
      await editActorOf(1);
      await rechain(1, entryHash);
    },
    { badEntry: 1, problem: /MAC/ },
  ],
  [
    'an edit, recomputed with SHA-256 and relabelled as a legacy entry',
    async () => {
      await editActorOf(1);
      await rechain(1, entryHash, { format: 1 });
    },
    { badEntry: 1, problem: /unkeyed legacy format after the keyed format began/ },
  ],
  [
    'an edit, recomputed with a wrong key, head re-signed with it',
    async () => {
      await editActorOf(1);
      await rechain(1, (prev, row) => entryMac(WRONG_KEY, prev, row));
      const last = (await chain.entries()).at(-1)!;
      const head = { ...heads[4]!, hash: last.hash };
      await chain.db.auditHead.update({ where: { id: 1 }, data: { hash: head.hash, mac: headMac(WRONG_KEY, head) } });
    },
    { badEntry: 1, problem: /MAC/ },
  ],
  [
    'the last entry deleted and the head moved back, signed with a wrong key',
    async () => {
      await chain.db.auditEntry.delete({ where: { seq: rows[4]!.seq } });
      const head = { ...heads[3]! };
      await chain.db.auditHead.update({ where: { id: 1 }, data: { seq: head.seq, hash: head.hash, count: head.count, mac: headMac(WRONG_KEY, head) } });
    },
    { chainProblem: /head anchor \(AuditHead\) does not match its MAC/ },
  ],
  [
    'the head removed',
    async () => {
      await chain.db.auditHead.deleteMany({});
    },
    { chainProblem: /keyed entries exist but the head anchor \(AuditHead\) is missing/ },
  ],
  [
    'the last two entries deleted and an older signed head put back',
    async () => {
      await chain.db.auditEntry.deleteMany({ where: { seq: { gte: rows[3]!.seq } } });
      const { chainId, ...older } = heads[2]!;
      await chain.db.auditHead.update({ where: { id: 1 }, data: { chainId, ...older } });
    },
    // Everything in the database agrees with itself now: only the copy kept outside it remembers #5.
    { chainProblem: /the head was rolled back: it is at #3 but the copy kept outside the database says the chain reached #5/ },
  ],
  [
    'the last entry deleted, then a new entry appended',
    async () => {
      await chain.db.auditEntry.delete({ where: { seq: rows[4]!.seq } });
      await chain.audit.append({ actor: 'later', action: 'x', target: '', outcome: 'ALLOWED' });
    },
    // The new entry follows the signed head, i.e. the deleted entry: the deletion stays visible.
    { badEntry: -1, problem: /does not follow/ },
  ],
];

describe('a tampered audit chain', () => {
  it('verifies while untouched, from the API and the CLI', async () => {
    expect(await chain.audit.verify()).toMatchObject({ ok: true, checked: 5, head: { seq: '5', count: '5', signed: true } });
    const cli = chain.verifyCli();
    expect(cli.stdout).toContain('chain intact (5 entries)');
    expect(cli.status).toBe(0);
  });

  it.each(CASES)('is caught: %s', async (_name, tamper, expectation) => {
    await tamper();
    const result = await chain.audit.verify();
    const cli = chain.verifyCli();
    expect(result.ok).toBe(false);
    expect(cli.status).toBe(1);
    if ('badEntry' in expectation) {
      const bad = (await chain.entries()).find((row) => row.id === result.firstBad?.id);
      const expected = expectation.badEntry < 0 ? (await chain.entries()).at(expectation.badEntry)! : rows[expectation.badEntry]!;
      expect(result.firstBad).toMatchObject({ id: expected.id, problem: expect.stringMatching(expectation.problem) });
      expect(cli.stdout).toContain(`BROKEN at entry #${bad!.seq} (${expected.id})`);
      expect(cli.stdout).toMatch(expectation.problem);
    } else {
      expect(result.chainProblem).toMatch(expectation.chainProblem);
      expect(cli.stdout).toMatch(expectation.chainProblem);
    }
  });
});
