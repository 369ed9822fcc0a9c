import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { auditSecretsFor } from '../../src/audit/key.ts';
import { scratchAudit, TEST_AUDIT_KEY, type ScratchAudit } from '../support/audit.ts';
import { countingDb, type CountingDb } from '../support/statement-count.ts';

/**
 * Every audited mutation appends to the chain inside its transaction, so the
 * append's statements are paid by every one of them. Counted on a scratch
 * database's pg pool, and the chain still verifies.
 */
let chain: ScratchAudit;
let counted: CountingDb;

beforeAll(async () => {
  chain = await scratchAudit();
  counted = countingDb(chain.url);
});

afterAll(async () => {
  await counted?.close();
  await chain?.close();
});

describe('an audit append', () => {
  it('costs BEGIN, the lock, the head, the entry, its seal and COMMIT', async () => {
    const audit = new AuditLog(counted.db, auditSecretsFor({ auditKey: TEST_AUDIT_KEY, stateDir: chain.stateDir }));
    await audit.append({ actor: 'a', action: 'registerStream', target: 'str_1', detail: { b: 1, a: [2, { z: true }] }, outcome: 'ALLOWED' });
    counted.reset();
    const entry = await audit.append({ actor: 'a', action: 'pauseStream', target: 'str_1', detail: { n: 1e2, text: 'ü' }, outcome: 'ALLOWED' });
    expect(counted.statements).toBe(6);
    // The entry returned is the row as stored, sealed with its hash.
    const [stored] = await chain.db.auditEntry.findMany({ where: { seq: entry.seq } });
    expect(entry).toEqual(stored);
    expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await chain.audit.verify()).toMatchObject({ ok: true, checked: 2, head: { seq: String(entry.seq), count: '2', signed: true } });
  });
});
