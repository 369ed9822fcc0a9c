import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/core/config.ts';
import { entryHash, entryMac, GENESIS_HASH, headMac } from '../../src/audit/chain.ts';
import { loadAuditKey } from '../../src/audit/key.ts';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'vigil-key-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('the audit key', () => {
  it('is read from VIGIL_AUDIT_KEY, which must be at least 32 characters', () => {
    expect(loadConfig({ VIGIL_AUDIT_KEY: 'k'.repeat(32), VIGIL_STATE_DIR: '/var/lib/vigil' })).toMatchObject({
      auditKey: 'k'.repeat(32),
      stateDir: '/var/lib/vigil',
    });
    expect(loadConfig({}).auditKey).toBeUndefined();
    expect(loadConfig({}).stateDir).toMatch(/\.vigil$/);
    expect(() => loadConfig({ VIGIL_AUDIT_KEY: 'too short' })).toThrow(ConfigError);
    expect(() => loadConfig({ VIGIL_AUDIT_KEY: 'too short' })).toThrow(/VIGIL_AUDIT_KEY must be at least 32 characters/);
  });

  it('prefers the configured key and writes no file then', async () => {
    const { key, origin } = await loadAuditKey({ auditKey: 'x'.repeat(40), stateDir });
    expect(key.toString('utf8')).toBe('x'.repeat(40));
    expect(origin).toBe('VIGIL_AUDIT_KEY');
    await expect(stat(join(stateDir, 'audit.key'))).rejects.toThrow(/ENOENT/);
  });

  it('is generated once into the state directory, readable by its owner only, and the same for concurrent first uses', async () => {
    const dir = join(stateDir, 'nested');
    const loads = await Promise.all(Array.from({ length: 8 }, () => loadAuditKey({ auditKey: undefined, stateDir: dir })));
    const keys = new Set(loads.map((l) => l.key.toString('hex')));
    expect(keys.size).toBe(1);
    const path = join(dir, 'audit.key');
    expect(loads[0]!.origin).toBe(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // The file's content is a usable VIGIL_AUDIT_KEY: a second host configured with it gets the same key.
    const content = (await readFile(path, 'utf8')).trim();
    expect(content.length).toBeGreaterThanOrEqual(32);
    expect((await loadAuditKey({ auditKey: content, stateDir: '/nonexistent' })).key.equals(loads[0]!.key)).toBe(true);
    expect((await loadAuditKey({ auditKey: undefined, stateDir: dir })).key.equals(loads[0]!.key)).toBe(true);
  });

  it('refuses a key file too short to be a key', async () => {
    await writeFile(join(stateDir, 'audit.key'), 'short\n');
    await expect(loadAuditKey({ auditKey: undefined, stateDir })).rejects.toThrow(/no usable audit key/);
  });
});

describe('keyed entry and head MACs', () => {
  const entry = { id: 'aud_1', at: new Date(Date.UTC(2024, 0, 1)), actor: 'a', action: 'x', target: 't', detail: { b: 1, a: 2 }, outcome: 'ALLOWED' };
  const key = Buffer.from('k'.repeat(32));

  it('depend on the key, and differ from the legacy hash of the same content', () => {
    const mac = entryMac(key, GENESIS_HASH, entry);
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    expect(entryMac(Buffer.from('j'.repeat(32)), GENESIS_HASH, entry)).not.toBe(mac);
    expect(entryHash(GENESIS_HASH, entry)).not.toBe(mac);
    expect(entryMac(key, GENESIS_HASH, { ...entry, detail: { a: 2, b: 1 } })).toBe(mac);
    expect(entryMac(key, '1'.repeat(64), entry)).not.toBe(mac);
  });

  it('never coincide between an entry and a head', () => {
    const head = { chainId: 'c', seq: 1n, hash: GENESIS_HASH, count: 1n, legacyThrough: 0n };
    expect(headMac(key, head)).not.toBe(headMac(key, { ...head, count: 2n }));
    expect(headMac(key, head)).not.toBe(entryMac(key, GENESIS_HASH, entry));
  });
});
