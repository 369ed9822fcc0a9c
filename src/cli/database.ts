/** `vigil migrate`, `vigil audit verify`, `vigil print-schema`: the database and the contract. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { PROJECT_ROOT } from '../core/paths.ts';
import { createDb } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { auditSecretsFor } from '../audit/key.ts';
import { verificationReport } from '../audit/verify.ts';
import { cliLogger } from './log.ts';
import { flag } from './args.ts';
import { JSON_OPTION, type Command } from './command.ts';

export const databaseCommands: Command[] = [
  {
    words: ['migrate'],
    summary: 'Apply database migrations, creating the database if it is missing.',
    usage: 'vigil migrate [--json]',
    details: `  --json   print {applied: [names], alreadyApplied: count}
Safe to run while other processes start: migrations take an advisory lock. DATABASE_URL says where.`,
    options: { ...JSON_OPTION },
    run: async (parsed, io) => {
      const config = loadConfig();
      const result = await migrate(config.databaseUrl, join(PROJECT_ROOT, 'prisma', 'migrations'));
      if (flag(parsed, 'json')) io.out(JSON.stringify({ applied: result.applied, alreadyApplied: result.alreadyApplied }));
      else io.out(result.applied.length > 0 ? `migrate: applied ${result.applied.join(', ')}` : `migrate: up to date (${result.alreadyApplied} migrations)`);
      return 0;
    },
  },
  {
    words: ['audit', 'verify'],
    summary: "Check the audit log's chain (MACs, links, head); exit 1 if it is broken.",
    usage: 'vigil audit verify [--json]',
    details: `  --json   print {ok, lines: [...]} instead of the report
Needs the same VIGIL_AUDIT_KEY (or <VIGIL_STATE_DIR>/audit.key) as the service that wrote the log.`,
    options: { ...JSON_OPTION },
    run: async (parsed, io) => {
      const config = loadConfig();
      const db = createDb(config.databaseUrl, 2);
      try {
        const result = await new AuditLog(db, auditSecretsFor(config, cliLogger(config.logLevel))).verify();
        const lines = verificationReport(result);
        if (flag(parsed, 'json')) io.out(JSON.stringify({ ok: result.ok, lines }));
        else for (const line of lines) io.out(line);
        return result.ok ? 0 : 1;
      } finally {
        await db.$disconnect();
      }
    },
  },
  {
    words: ['print-schema'],
    summary: 'Write schema.graphql from the code-first schema (commit it with schema changes).',
    usage: 'vigil print-schema',
    options: {},
    run: async (_parsed, io) => {
      // Loaded here: building the schema pulls in every service module.
      const { printVigilSchema } = await import('../schema/index.ts');
      await writeFile(join(PROJECT_ROOT, 'schema.graphql'), printVigilSchema());
      io.out('wrote schema.graphql');
      return 0;
    },
  },
];
