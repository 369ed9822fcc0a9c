import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/store/db.ts';
import type { CliIo } from '../../src/cli/command.ts';
import { main } from '../../src/cli/index.ts';
import { ApiKeyService } from '../../src/services/api-keys.ts';
import { TEST_DATABASE_URL, uniqueName } from '../support/env.ts';

/** `vigil keys create|list|revoke` in process against the test database, as a script would use them (--json). */
let db: Db;
const previousUrl = process.env.DATABASE_URL;

async function vigil(...argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = { isTTY: false, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
  return { code: await main(argv, io), stdout, stderr };
}

beforeAll(() => {
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  db = createDb(TEST_DATABASE_URL, 2);
});
afterAll(async () => {
  if (previousUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = previousUrl;
  await db.$disconnect();
});

describe('vigil keys', () => {
  it('create (lower-case role), list shows it without its secret, revoke ends its authentication, revoke again is a no-op', async () => {
    const name = uniqueName('cli-key');
    const created = await vigil('keys', 'create', '--role', 'operator', '--name', name, '--json');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout[0]!) as { id: string; role: string; secret: string };
    expect(key.role).toBe('OPERATOR');
    const keys = new ApiKeyService(db, undefined);
    await expect(keys.authenticate(`Bearer ${key.secret}`)).resolves.toMatchObject({ keyId: key.id, role: 'OPERATOR' });

    const listed = await vigil('keys', 'list', '--json');
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout[0]!) as Record<string, unknown>[];
    expect(rows.find((r) => r.id === key.id)).toEqual({ id: key.id, name, role: 'OPERATOR', createdAt: expect.any(String), lastUsedAt: expect.any(String), revokedAt: null });
    expect(listed.stdout.join('')).not.toContain(key.secret);
    const table = await vigil('keys', 'list');
    expect(table.stdout.find((line) => line.startsWith(key.id))).toMatch(new RegExp(`^${key.id}\\s+OPERATOR\\s+${name}\\s+\\S+\\s+\\S+\\s+active$`));

    const revoked = await vigil('keys', 'revoke', key.id, '--json');
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout[0]!)).toMatchObject({ id: key.id, revokedAt: expect.any(String), alreadyRevoked: false });
    await expect(keys.authenticate(`Bearer ${key.secret}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const again = await vigil('keys', 'revoke', key.id);
    expect(again.code).toBe(0);
    expect(again.stdout[0]).toContain('was already revoked');

    // Both CLI changes are in the audit chain, once each.
    const entries = await db.auditEntry.findMany({ where: { target: key.id, actor: 'cli' }, orderBy: { seq: 'asc' } });
    expect(entries.map((e) => e.action)).toEqual(['createApiKey', 'revokeApiKey']);
  });

  it('revoking an unknown id: one line, exit 1, nothing written', async () => {
    const id = uniqueName('key_missing');
    const result = await vigil('keys', 'revoke', id);
    expect(result).toEqual({ code: 1, stdout: [], stderr: [`vigil keys revoke: API key "${id}" not found`] });
    expect(await db.auditEntry.count({ where: { target: id } })).toBe(0);
  });
});
