import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type Db } from '../../src/store/db.ts';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { auditSecretsFor } from '../../src/audit/key.ts';
import { createScratchDatabase } from './scratch-db.ts';

export const TEST_AUDIT_KEY = 'test-audit-key-0123456789abcdef-0123456789';

/**
 * An audit log over a scratch database of its own (the chain is the whole
 * table), with a state directory of its own for the head's copy, and
 * `vigil audit verify` run against both as an operator would.
 */
export interface ScratchAudit {
  url: string;
  db: Db;
  audit: AuditLog;
  stateDir: string;
  entries(): ReturnType<Db['auditEntry']['findMany']>;
  verifyCli(): { status: number | null; stdout: string };
  close(): Promise<void>;
}

export async function scratchAudit(options: { migrate?: boolean; url?: string } = {}): Promise<ScratchAudit> {
  const scratch = options.url ? undefined : await createScratchDatabase({ migrate: options.migrate ?? true });
  const url = options.url ?? scratch!.url;
  const db = createDb(url, 4);
  const stateDir = await mkdtemp(join(tmpdir(), 'vigil-audit-'));
  const audit = new AuditLog(db, auditSecretsFor({ auditKey: TEST_AUDIT_KEY, stateDir }));
  return {
    url,
    db,
    audit,
    stateDir,
    entries: () => db.auditEntry.findMany({ orderBy: { seq: 'asc' } }),
    verifyCli: () => {
      const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'vigil.mjs'), 'audit', 'verify'], {
        env: { ...process.env, DATABASE_URL: url, VIGIL_AUDIT_KEY: TEST_AUDIT_KEY, VIGIL_STATE_DIR: stateDir, LOG_LEVEL: 'silent' },
        encoding: 'utf8',
      });
      return { status: result.status, stdout: result.stdout };
    },
    close: async () => {
      await db.$disconnect();
      await scratch?.drop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
