/** `vigil keys create|list|revoke`: API keys, straight on the database (no running service needed). */
import { join } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { PROJECT_ROOT } from '../core/paths.ts';
import { createDb, type Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { ambientDb, inAmbientTransaction } from '../store/ambient-transaction.ts';
import { ApiKeyService } from '../services/api-keys.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { auditSecretsFor } from '../audit/key.ts';
import { cliLogger } from './log.ts';
import type { ApiKey } from '../generated/prisma/client.ts';
import type { Role } from '../generated/prisma/enums.ts';
import { enumValue, flag, requiredOption, UsageError, type Parsed } from './args.ts';
import { JSON_OPTION, type CliIo, type Command } from './command.ts';
import { formatTable } from './table.ts';

const ROLES: readonly Role[] = ['VIEWER', 'OPERATOR', 'ADMIN'];

/** Opens the database (migrated), runs `work` with the services it needs, and closes it. */
async function withKeys<T>(work: (keys: ApiKeyService, audit: AuditLog, db: Db) => Promise<T>): Promise<T> {
  const config = loadConfig();
  await migrate(config.databaseUrl, join(PROJECT_ROOT, 'prisma', 'migrations'));
  const db = createDb(config.databaseUrl, 2);
  try {
    const audit = new AuditLog(db, auditSecretsFor(config, cliLogger(config.logLevel)));
    return await work(new ApiKeyService(ambientDb(db), undefined), audit, db);
  } finally {
    await db.$disconnect();
  }
}

/** A key as scripts see it (`--json`): never its secret or hash. */
export function keyView(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

/** Creates a key with its audit entry (actor "cli"), as the createApiKey mutation does; also used by `vigil demo`. */
export function createKeyInDatabase(name: string, role: Role): Promise<{ apiKey: ApiKey; secret: string }> {
  return withKeys((keys, audit, db) =>
    // The key and its audit entry commit together.
    inAmbientTransaction(db, async (tx) => {
      const created = await keys.create(name, role);
      await audit.append({ actor: 'cli', action: 'createApiKey', target: created.apiKey.id, detail: { name, role }, outcome: 'ALLOWED' }, tx);
      return created;
    }),
  );
}

/** Revokes a key with its audit entry; `already` when it was revoked before. */
export function revokeKeyInDatabase(id: string): Promise<{ key: ApiKey; already: boolean }> {
  return withKeys((keys, audit, db) =>
    inAmbientTransaction(db, async (tx) => {
      const before = await tx.apiKey.findUnique({ where: { id } });
      const revoked = await keys.revoke(id);
      if (!before?.revokedAt) await audit.append({ actor: 'cli', action: 'revokeApiKey', target: id, outcome: 'ALLOWED' }, tx);
      return { key: revoked, already: before?.revokedAt != null };
    }),
  );
}

async function createKey(parsed: Parsed, io: CliIo): Promise<number> {
  const role = enumValue('role', requiredOption(parsed, 'role', ROLES.join(', ')), ROLES);
  const name = requiredOption(parsed, 'name', 'a label for the key, e.g. automation');
  const { apiKey, secret } = await createKeyInDatabase(name, role);
  if (flag(parsed, 'json')) {
    io.out(JSON.stringify({ ...keyView(apiKey), secret }));
  } else {
    io.out(`created ${apiKey.role} key ${apiKey.id} (${apiKey.name})`);
    io.out(`secret (shown once): ${secret}`);
  }
  return 0;
}

async function listKeys(parsed: Parsed, io: CliIo): Promise<number> {
  const keys = (await withKeys((service) => service.list())).map(keyView);
  if (flag(parsed, 'json')) {
    io.out(JSON.stringify(keys));
    return 0;
  }
  if (keys.length === 0) {
    io.out('no API keys (create one: vigil keys create --role admin --name NAME)');
    return 0;
  }
  const rows = keys.map((k) => [k.id, k.role, k.name, k.createdAt, k.lastUsedAt ?? '-', k.revokedAt ? `revoked ${k.revokedAt}` : 'active']);
  for (const line of formatTable(['ID', 'ROLE', 'NAME', 'CREATED', 'LAST USED', 'STATUS'], rows)) io.out(line);
  return 0;
}

async function revokeKey(parsed: Parsed, io: CliIo): Promise<number> {
  const id = parsed.positionals[0];
  if (!id) throw new UsageError('which key? give its id (see vigil keys list)');
  const { key, already } = await revokeKeyInDatabase(id);
  if (flag(parsed, 'json')) io.out(JSON.stringify({ ...keyView(key), alreadyRevoked: already }));
  else io.out(already ? `key ${key.id} (${key.name}) was already revoked at ${key.revokedAt!.toISOString()}` : `revoked ${key.role} key ${key.id} (${key.name}); it stops working at once`);
  return 0;
}

export const keyCommands: Command[] = [
  {
    words: ['keys', 'create'],
    summary: 'Create an API key and print its secret (shown once).',
    usage: 'vigil keys create --role VIEWER|OPERATOR|ADMIN --name NAME [--json]',
    details: `  --role ROLE   VIEWER (read), OPERATOR (+ acknowledge, resolve, run runbooks) or ADMIN (+ register,
                change, keys); any case: --role admin
  --name NAME   a label for the key (1 to 100 characters)
  --json        print {id, name, role, createdAt, ..., secret} as one JSON line
Writes an audit entry (actor "cli"). Applies pending migrations first.`,
    options: { role: { type: 'string' }, name: { type: 'string' }, ...JSON_OPTION },
    run: createKey,
  },
  {
    words: ['keys', 'list'],
    summary: 'List the API keys: id, role, name, created, last used, revoked (never secrets).',
    usage: 'vigil keys list [--json]',
    details: '  --json   print a JSON array of {id, name, role, createdAt, lastUsedAt, revokedAt}',
    options: { ...JSON_OPTION },
    run: listKeys,
  },
  {
    words: ['keys', 'revoke'],
    summary: 'Revoke an API key: its requests and open subscriptions are refused from then on.',
    usage: 'vigil keys revoke ID [--json]',
    details: `  ID       the key's id, as printed by keys create or keys list
  --json   print the revoked key as one JSON line (with alreadyRevoked)
Revoking a revoked key changes nothing and exits 0; an unknown id exits 1. Writes an audit entry.`,
    options: { ...JSON_OPTION },
    positionals: 1,
    run: revokeKey,
  },
];
