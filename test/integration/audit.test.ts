import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrate.ts';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { entryHash, GENESIS_HASH } from '../../src/audit/chain.ts';
import { findUnsafeInput } from '../../src/core/safe-input.ts';
import { scratchAudit, type ScratchAudit } from '../support/audit.ts';
import { createScratchDatabase } from '../support/scratch-db.ts';

const MIGRATIONS = join(PROJECT_ROOT, 'prisma', 'migrations');

describe('the audit chain', () => {
  let chain: ScratchAudit;
  beforeEach(async () => {
    chain = await scratchAudit();
    for (let i = 0; i < 5; i++) {
      await chain.audit.append({ actor: `actor-${i}`, action: 'registerStream', target: `str_${i}`, detail: { b: i, a: [1, { z: true, y: null }] }, outcome: 'ALLOWED' });
    }
  });
  afterEach(async () => {
    await chain.close();
  });

  it('verifies an untouched chain, from the API service and the CLI', async () => {
    expect(await chain.audit.verify()).toEqual({ ok: true, checked: 5, head: { seq: '5', count: '5', signed: true } });
    const cli = chain.verifyCli();
    expect(cli.stdout).toContain('chain intact (5 entries)');
    expect(cli.status).toBe(0);
  });

  it('chains concurrent appends onto distinct predecessors', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => chain.audit.append({ actor: 'a', action: 'x', target: String(i), outcome: 'REFUSED' })));
    const rows = await chain.entries();
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(rows.length);
    expect(rows.every((r) => r.format === 2)).toBe(true);
    expect(await chain.audit.verify()).toMatchObject({ ok: true, checked: 15, head: { seq: '15', count: '15' } });
  });

  it('always writes hostile details, sanitised, and the chain still verifies', async () => {
    const hostile: [string, unknown][] = [
      ['__proto__ key', { args: JSON.parse('{"schema": {"properties": {"__proto__": {"type": "string"}}}}') }],
      ['lone surrogate', { args: { name: 'x\uD800y' } }],
      ['NUL', { args: { name: 'a\u0000b' }, code: 'BAD_USER_INPUT' }],
      ['3,000 deep', { args: JSON.parse(`${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`) }],
    ];
    for (const [name, detail] of hostile) {
      await chain.audit.append({ actor: `actor \u0000 ${name}`, action: 'registerStream', target: 'x\uDC00', detail, outcome: 'FAILED' });
    }
    const written = (await chain.entries()).slice(5);
    expect(written).toHaveLength(hostile.length);
    for (const entry of written) {
      expect(entry.detail).toMatchObject({ sanitised: true, reason: expect.any(String), excerpt: expect.any(String) });
      expect(findUnsafeInput(entry, '')).toBeUndefined();
    }
    expect(written[2]!.detail).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'detail.args.name: holds a NUL character (U+0000), which cannot be stored' });
    expect(await chain.audit.verify()).toMatchObject({ ok: true, checked: 9 });
  });

  it('hashes what PostgreSQL stores, even when that differs from what was given', async () => {
    // A trigger stands for anything between the value in memory and the row (driver, column type, extension).
    const client = new pg.Client({ connectionString: chain.url });
    await client.connect();
    await client.query(`
      CREATE FUNCTION audit_rewrite() RETURNS trigger AS $$
      BEGIN
        NEW."detail" := COALESCE(NEW."detail", '{}'::jsonb) || '{"rewritten": "by the database"}'::jsonb;
        NEW."actor" := upper(NEW."actor");
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER audit_rewrite BEFORE INSERT ON "AuditEntry" FOR EACH ROW EXECUTE FUNCTION audit_rewrite();`);
    await client.end();
    const entry = await chain.audit.append({ actor: 'quiet', action: 'x', target: '', detail: { given: true }, outcome: 'ALLOWED' });
    expect(entry).toMatchObject({ actor: 'QUIET', detail: { given: true, rewritten: 'by the database' } });
    expect(await chain.audit.verify()).toMatchObject({ ok: true, checked: 6 });
  });
});

describe('a chain that began before the keyed format', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let chain: ScratchAudit;
  beforeEach(async () => {
    scratch = await createScratchDatabase({ migrate: false });
    // The schema as it was before 0009, and three entries written as the code of the time wrote them.
    const before = await mkdtemp(join(tmpdir(), 'vigil-migrations-'));
    for (const name of (await readdir(MIGRATIONS)).filter((n) => n < '0009')) await cp(join(MIGRATIONS, name), join(before, name), { recursive: true });
    await migrate(scratch.url, before);
    await rm(before, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    let prevHash = GENESIS_HASH;
    for (let i = 1; i <= 3; i++) {
      const entry = { id: `aud_legacy_${i}`, at: new Date(Date.UTC(2024, 0, i)), actor: 'cli', action: 'createApiKey', target: `key_${i}`, detail: { name: `k${i}` }, outcome: 'ALLOWED' };
      const hash = entryHash(prevHash, entry);
      await client.query(
        'INSERT INTO "AuditEntry" ("id", "at", "actor", "action", "target", "detail", "outcome", "prevHash", "hash") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [entry.id, entry.at, entry.actor, entry.action, entry.target, JSON.stringify(entry.detail), entry.outcome, prevHash, hash],
      );
      prevHash = hash;
    }
    await client.end();
    await migrate(scratch.url, MIGRATIONS);
    chain = await scratchAudit({ url: scratch.url });
  });
  afterEach(async () => {
    await chain.close();
    await scratch.drop();
  });

  it('verifies after the migration, with an unsigned head over the legacy entries', async () => {
    expect(await chain.audit.verify()).toEqual({
      ok: true,
      checked: 3,
      legacy: { firstSeq: '1', lastSeq: '3', count: 3 },
      head: { seq: '3', count: '3', signed: false },
    });
  });

  it('continues with keyed entries; verify names the legacy range', async () => {
    await chain.audit.append({ actor: 'a', action: 'x', target: 't', outcome: 'ALLOWED' });
    await chain.audit.append({ actor: 'b', action: 'y', target: 't', outcome: 'REFUSED' });
    expect((await chain.entries()).map((e) => e.format)).toEqual([1, 1, 1, 2, 2]);
    expect(await chain.audit.verify()).toEqual({
      ok: true,
      checked: 5,
      legacy: { firstSeq: '1', lastSeq: '3', count: 3 },
      head: { seq: '5', count: '5', signed: true },
    });
    const cli = chain.verifyCli();
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('chain intact (5 entries)');
    expect(cli.stdout).toContain('entries #1..#3 (3) predate the keyed format (format 1): unkeyed, they prove order but not authorship');
  });

  it('catches a legacy entry edited and its legacy successors recomputed: the first keyed entry anchors them', async () => {
    await chain.audit.append({ actor: 'a', action: 'x', target: 't', outcome: 'ALLOWED' });
    const rows = await chain.entries();
    let prevHash = rows[0]!.hash;
    for (const row of rows.slice(1, 3)) {
      const edited = { ...row, actor: 'someone else', prevHash };
      edited.hash = entryHash(prevHash, edited);
      await chain.db.auditEntry.update({ where: { seq: row.seq }, data: { actor: edited.actor, prevHash, hash: edited.hash } });
      prevHash = edited.hash;
    }
    const result = await chain.audit.verify();
    expect(result).toMatchObject({ ok: false, firstBad: { seq: '4', problem: expect.stringContaining('does not follow') } });
    const cli = chain.verifyCli();
    expect(cli.status).toBe(1);
    expect(cli.stdout).toContain('BROKEN at entry #4');
  });
});
