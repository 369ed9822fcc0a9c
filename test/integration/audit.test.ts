import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db.ts';
import { PROJECT_ROOT } from '../../src/paths.ts';
import { AuditLog } from '../../src/resolvers/audit.ts';
import { createScratchDatabase } from '../support/scratch-db.ts';

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let audit: AuditLog;

beforeEach(async () => {
  scratch = await createScratchDatabase();
  db = createDb(scratch.url, 4);
  audit = new AuditLog(db);
  for (let i = 0; i < 5; i++) {
    await audit.append({ actor: `actor-${i}`, action: 'registerStream', target: `str_${i}`, detail: { b: i, a: [1, { z: true, y: null }] }, outcome: 'ALLOWED' });
  }
});
afterEach(async () => {
  await db.$disconnect();
  await scratch.drop();
});

const entries = () => db.auditEntry.findMany({ orderBy: { seq: 'asc' } });

/** `vigil audit verify` against the scratch database, as an operator would run it. */
function verifyCli(): { status: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'vigil.mjs'), 'audit', 'verify'], {
    env: { ...process.env, DATABASE_URL: scratch.url },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout };
}

describe('the audit hash chain', () => {
  it('verifies an untouched chain, from the API service and the CLI', async () => {
    expect(await audit.verify()).toEqual({ ok: true, checked: 5 });
    const cli = verifyCli();
    expect(cli.stdout).toContain('chain intact (5 entries)');
    expect(cli.status).toBe(0);
  });

  it('chains concurrent appends onto distinct predecessors', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => audit.append({ actor: 'a', action: 'x', target: String(i), outcome: 'REFUSED' })));
    const rows = await entries();
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(rows.length);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('detects an edited entry', async () => {
    const [, second] = await entries();
    await db.auditEntry.update({ where: { seq: second!.seq }, data: { actor: 'someone else' } });
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({ id: second!.id, problem: expect.stringContaining('edited') });
    const cli = verifyCli();
    expect(cli.status).toBe(1);
    expect(cli.stdout).toContain(`BROKEN at entry #${second!.seq}`);
  });

  it('detects an edited detail even when the hash was recomputed for that entry alone', async () => {
    const [first] = await entries();
    await db.auditEntry.update({ where: { seq: first!.seq }, data: { detail: { b: 99 } } });
    expect((await audit.verify()).ok).toBe(false);
  });

  it('detects a deleted entry', async () => {
    const rows = await entries();
    await db.auditEntry.delete({ where: { seq: rows[2]!.seq } });
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({ id: rows[3]!.id, problem: expect.stringContaining('deleted') });
    expect(verifyCli().status).toBe(1);
  });

  it('detects reordered entries', async () => {
    const rows = await entries();
    const [a, b] = [rows[1]!, rows[2]!];
    // Swap the positions of two entries: move one aside, then exchange sequence numbers.
    await db.$transaction([
      db.auditEntry.update({ where: { seq: a.seq }, data: { seq: -1n } }),
      db.auditEntry.update({ where: { seq: b.seq }, data: { seq: a.seq } }),
      db.auditEntry.update({ where: { seq: -1n }, data: { seq: b.seq } }),
    ]);
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBad?.id).toBe(b.id);
  });
});
