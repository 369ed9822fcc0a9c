import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

export const AUDIT_KEY_FILE = 'audit.key';
export const MIN_AUDIT_KEY_LENGTH = 32;

/** Where the audit chain's secrets live: the key, and a copy of the head kept outside the database. */
export interface AuditSecrets {
  key(): Promise<Buffer>;
  /** Directory of head copies (one file per chain); undefined: none kept. */
  witnessDir?: string | undefined;
  log?: Logger | undefined;
}

/**
 * VIGIL_AUDIT_KEY when set; otherwise a key generated once into
 * <stateDir>/audit.key (mode 0600). The key never goes into the database: a
 * writer of the audit table must not be able to recompute its MACs. Every
 * process sharing a database must hold the same key, so a deployment on
 * more than one host sets VIGIL_AUDIT_KEY (the file's content works as is).
 */
export async function loadAuditKey(options: { auditKey: string | undefined; stateDir: string }, log?: Logger): Promise<{ key: Buffer; origin: string }> {
  if (options.auditKey) return { key: Buffer.from(options.auditKey, 'utf8'), origin: 'VIGIL_AUDIT_KEY' };
  const path = join(options.stateDir, AUDIT_KEY_FILE);
  const existing = await readKeyFile(path, log);
  if (existing) return { key: existing, origin: path };
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    // link() is atomic and never replaces: of two processes starting at once, one key wins and both use it.
    await link(temporary, path);
    log?.warn(
      { path },
      'generated a new audit key (VIGIL_AUDIT_KEY is unset); every process sharing this database must use the same key: set VIGIL_AUDIT_KEY on multi-host deployments',
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temporary, { force: true });
  }
  const key = await readKeyFile(path, log);
  if (!key) throw new Error(`could not create the audit key at ${path}`);
  return { key, origin: path };
}

async function readKeyFile(path: string, log?: Logger): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (text.length < MIN_AUDIT_KEY_LENGTH) throw new Error(`${path} holds no usable audit key (fewer than ${MIN_AUDIT_KEY_LENGTH} characters)`);
  if (((await stat(path)).mode & 0o077) !== 0) log?.warn({ path }, 'the audit key file is readable by other users; chmod 600 it');
  return Buffer.from(text, 'utf8');
}

/** The process's audit secrets from its configuration; the key is read (or generated) once, on first use. */
export function auditSecretsFor(config: { auditKey: string | undefined; stateDir: string }, log?: Logger): AuditSecrets {
  let loading: Promise<Buffer> | undefined;
  return {
    key: () => {
      loading ??= loadAuditKey(config, log).then(({ key, origin }) => {
        log?.info({ origin }, 'audit key loaded');
        return key;
      });
      // A failed load (unreadable file) is retried next time rather than remembered.
      loading.catch(() => {
        loading = undefined;
      });
      return loading;
    },
    witnessDir: join(config.stateDir, 'audit-heads'),
    log,
  };
}
