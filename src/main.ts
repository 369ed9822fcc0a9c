import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './core/config.ts';
import { createDb } from './store/db.ts';
import { startGateway } from './gateway/server.ts';
import { migrate } from './store/migrate.ts';
import { PROJECT_ROOT } from './core/paths.ts';
import { ApiKeyService } from './services/api-keys.ts';
import { ambientDb, inAmbientTransaction } from './store/ambient-transaction.ts';
import { AuditLog } from './audit/audit-log.ts';
import { auditSecretsFor } from './audit/key.ts';
import { verificationReport } from './audit/verify.ts';
import { openRuntime } from './app/runtime.ts';
import { printVigilSchema } from './schema/index.ts';
import { ensureKafkaBroker, kafkaAnswers, stopKafkaBroker } from '../dev/kafka-broker.ts';
import { checkPostgres, checkRedis } from '../dev/local-services.ts';
import { Readiness } from './core/readiness.ts';
import type { WorkerSide } from './app/worker-side.ts';
import { createLogger } from './telemetry/logger.ts';
import { serveMetrics } from './telemetry/otel.ts';
import type { Role } from './generated/prisma/enums.ts';

const USAGE = `Usage: vigil <command>

  start                 gateway and worker in one process (what npm start runs)
  gateway               the GraphQL gateway only
  worker                the stream worker only
  migrate               apply database migrations (creating the database if missing)
  services [--stop]     ensure the local Kafka broker; check PostgreSQL and Redis
  keys create --role VIEWER|OPERATOR|ADMIN --name NAME
                        create an API key and print its secret (shown once)
  audit verify          check the audit log's chain (MACs, links, head); exit 1 if broken
  print-schema          write schema.graphql from the code-first schema
  bench nab [--data DIR] [--detector KIND|all] [--params JSON] [--out DIR]
                        score the detectors on the Numenta Anomaly Benchmark (vigil bench --help)

Configuration comes from the environment: PORT, DATABASE_URL, REDIS_URL,
KAFKA_BROKERS, VIGIL_ADMIN_KEY, VIGIL_AUDIT_KEY, VIGIL_STATE_DIR, LOG_LEVEL, VIGIL_MAX_EVENT_BYTES, OTEL_EXPORTER_OTLP_ENDPOINT,
VIGIL_METRICS_PORT (see README).`;

type Stoppable = { stop(): Promise<void> };

/** Runs until SIGTERM or SIGINT, then stops components in reverse order of start. */
async function serveUntilSignal(config: Config, roles: { gateway: boolean; worker: boolean }): Promise<void> {
  const { metricsPort } = config;
  const log = createLogger(config.logLevel);
  // Listen for signals first: a SIGTERM while migrating or connecting must still shut down cleanly.
  const stopRequested = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const runtime = await openRuntime(config, log);
  const readiness = new Readiness();
  // Known before the gateway answers its first /readyz: they start after it.
  const startup = roles.worker ? { workflows: readiness.part('workflows', 'workflows starting'), worker: readiness.part('worker', 'stream worker starting') } : undefined;
  const stoppables: Stoppable[] = [];
  const giveUp = async (error: unknown): Promise<never> => {
    for (const component of stoppables.reverse()) await component.stop().catch(() => undefined);
    await runtime.close();
    throw error;
  };
  let workerSide: WorkerSide | undefined;
  try {
    // The gateway first: /healthz and /readyz answer from the start, while the worker joins its group (docs/faults.md, "Restarts").
    if (roles.gateway) {
      const gateway = await startGateway(runtime.services, log.child({ component: 'gateway' }), config.port, readiness);
      stoppables.push({ stop: () => gateway.close() });
    }
    if (!roles.gateway && metricsPort !== undefined) {
      // No gateway here to serve GET /metrics: a worker serves it on a port of its own when asked to.
      const metrics = await serveMetrics(metricsPort);
      log.info({ port: metrics.port }, 'metrics at /metrics');
      stoppables.push({ stop: () => metrics.close() });
    }
    if (startup) {
      // Loaded only now: its modules (BullMQ, the detectors) would hold up the gateway's first answer.
      const { startWorkerSide } = await import('./app/worker-side.ts');
      workerSide = startWorkerSide(runtime.services, config, log, startup);
      stoppables.push(workerSide);
    }
  } catch (error) {
    return giveUp(error);
  }
  // A part that cannot start still ends the process, as when it started in the foreground: its supervisor restarts it.
  const startFailed = new Promise<never>((_, reject) => void workerSide?.started.catch(reject));
  const signal = await Promise.race([stopRequested, startFailed]).catch(giveUp);
  log.info({ signal }, 'shutting down');
  const forceExit = setTimeout(() => {
    log.error('shutdown took longer than 15 s; exiting');
    process.exit(1);
  }, 15_000);
  forceExit.unref();
  for (const component of stoppables.reverse()) await component.stop().catch((error) => log.error({ err: error }, 'stop failed'));
  await runtime.close();
  // Client libraries can leave timers behind; they must not keep a stopped service alive.
  setTimeout(() => process.exit(), 1000).unref();
}

async function services(stop: boolean): Promise<number> {
  const say = (message: string) => console.log(message);
  if (stop) {
    say((await stopKafkaBroker({ projectRoot: PROJECT_ROOT, log: say })) ? 'kafka: stopped' : 'kafka: was not running (from this project)');
    return 0;
  }
  const config = loadConfig();
  let missing = 0;
  const brokers = config.kafkaBrokers;
  const local = brokers.every((b) => b.startsWith('127.0.0.1:') || b.startsWith('localhost:'));
  if (local) {
    try {
      const { started } = await ensureKafkaBroker({ projectRoot: PROJECT_ROOT, brokers, log: say });
      say(started ? `kafka: started on ${brokers.join(',')}` : `kafka: answering on ${brokers.join(',')}`);
    } catch (error) {
      missing++;
      say(`kafka: MISSING: ${(error as Error).message}`);
    }
  } else if (await kafkaAnswers(brokers)) {
    say(`kafka: answering on ${brokers.join(',')}`);
  } else {
    missing++;
    say(`kafka: MISSING: nothing answers on ${brokers.join(',')} (not local, so not started here)`);
  }
  for (const [name, check] of [
    ['postgresql', () => checkPostgres(config.databaseUrl)],
    ['redis', () => checkRedis(config.redisUrl)],
  ] as const) {
    const problem = await check();
    if (problem) missing++;
    say(problem ? `${name}: MISSING: ${problem}` : `${name}: answering`);
  }
  return missing === 0 ? 0 : 1;
}

async function createKey(role: string | undefined, name: string | undefined): Promise<number> {
  if (!role || !['VIEWER', 'OPERATOR', 'ADMIN'].includes(role) || !name) {
    console.error('usage: vigil keys create --role VIEWER|OPERATOR|ADMIN --name NAME');
    return 2;
  }
  const config = loadConfig();
  await migrate(config.databaseUrl, join(PROJECT_ROOT, 'prisma', 'migrations'));
  const db = createDb(config.databaseUrl, 2);
  try {
    const audit = new AuditLog(db, auditSecretsFor(config, createLogger(config.logLevel)));
    // The key and its audit entry commit together, as for the createApiKey mutation.
    const { apiKey, secret } = await inAmbientTransaction(db, async (tx) => {
      const created = await new ApiKeyService(ambientDb(db), undefined).create(name, role as Role);
      await audit.append({ actor: 'cli', action: 'createApiKey', target: created.apiKey.id, detail: { name, role }, outcome: 'ALLOWED' }, tx);
      return created;
    });
    console.log(`created ${apiKey.role} key ${apiKey.id} (${apiKey.name})`);
    console.log(`secret (shown once): ${secret}`);
    return 0;
  } finally {
    await db.$disconnect();
  }
}

async function verifyAudit(): Promise<number> {
  const config = loadConfig();
  const db = createDb(config.databaseUrl, 2);
  try {
    const result = await new AuditLog(db, auditSecretsFor(config, createLogger(config.logLevel))).verify();
    for (const line of verificationReport(result)) console.log(line);
    return result.ok ? 0 : 1;
  } finally {
    await db.$disconnect();
  }
}

export async function main(argv: string[]): Promise<number> {
  // bench has options of its own, so it parses its arguments itself.
  if (argv[0] === 'bench') return (await import('../bench/nab/cli.ts')).benchCommand(argv.slice(1));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stop: { type: 'boolean', default: false },
      role: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, sub] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'start':
      await serveUntilSignal(loadConfig(), { gateway: true, worker: true });
      return 0;
    case 'gateway':
      await serveUntilSignal(loadConfig(), { gateway: true, worker: false });
      return 0;
    case 'worker':
      await serveUntilSignal(loadConfig(), { gateway: false, worker: true });
      return 0;
    case 'migrate': {
      const config = loadConfig();
      const result = await migrate(config.databaseUrl, join(PROJECT_ROOT, 'prisma', 'migrations'));
      console.log(
        result.applied.length > 0
          ? `migrate: applied ${result.applied.join(', ')}`
          : `migrate: up to date (${result.alreadyApplied} migrations)`,
      );
      return 0;
    }
    case 'services':
      return services(values.stop ?? false);
    case 'keys':
      if (sub !== 'create') break;
      return createKey(values.role, values.name);
    case 'audit':
      if (sub !== 'verify') break;
      return verifyAudit();
    case 'print-schema':
      await writeFile(join(PROJECT_ROOT, 'schema.graphql'), printVigilSchema());
      console.log('wrote schema.graphql');
      return 0;
  }
  console.error(`unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
  return 2;
}

export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  }
}
