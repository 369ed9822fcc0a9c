/** `vigil start`, `vigil gateway`, `vigil worker`: the long-running processes (serve-process.ts). */
import { availableParallelism } from 'node:os';
import { loadConfig, type Config } from '../core/config.ts';
import { integerValue, stringOption, UsageError, type Parsed } from './args.ts';
import type { Command } from './command.ts';

const ENVIRONMENT = `Configuration comes from the environment: PORT (default 4000), DATABASE_URL, REDIS_URL,
KAFKA_BROKERS, VIGIL_ADMIN_KEY, VIGIL_AUDIT_KEY, VIGIL_STATE_DIR, LOG_LEVEL, VIGIL_WEBHOOK_ALLOW,
VIGIL_MAX_EVENT_BYTES, OTEL_EXPORTER_OTLP_ENDPOINT, VIGIL_METRICS_PORT (see docs/cli.md).
Runs until SIGTERM or SIGINT (Ctrl-C), then stops cleanly within 15 s.`;

const MAX_PROCESSES = 64;

const PROCESSES_OPTION = { processes: { type: 'string' } } as const;

function processesHelp(fallback: string): string {
  return `  --processes N  run N worker processes (1 to ${MAX_PROCESSES}) in one consumer group under a supervisor
                 that restarts one that dies (after 1 s, doubling to 30 s while it keeps dying);
                 with VIGIL_METRICS_PORT, process i serves GET /metrics on that port + i.
                 ${fallback}`;
}

/** --processes, or `fallback` when not given; a bad value is a UsageError. */
function processesOption<T extends number | undefined>(parsed: Parsed, config: Config, fallback: T): number | T {
  const given = stringOption(parsed, 'processes');
  const processes = given === undefined ? fallback : integerValue('processes', given, 1, MAX_PROCESSES);
  if (processes !== undefined && processes > 1 && config.metricsPort !== undefined && config.metricsPort + processes - 1 > 65535) {
    throw new UsageError(`--processes ${processes} needs ${processes} metrics ports from VIGIL_METRICS_PORT=${config.metricsPort}, past 65535`);
  }
  return processes;
}

const gateway: Command = {
  words: ['gateway'],
  summary: 'Run the GraphQL gateway only (scale it apart from the workers).',
  usage: 'vigil gateway',
  details: ENVIRONMENT,
  options: {},
  run: async () => {
    const config = loadConfig();
    // Loaded here: the gateway and the schema are heavy, and `vigil help` needs neither.
    const { serveUntilSignal } = await import('./serve-process.ts');
    await serveUntilSignal(config, { gateway: true, worker: false });
    return 0;
  },
};

const start: Command = {
  words: ['start'],
  summary: 'Run the gateway and the worker in one process (what `npm start` runs).',
  usage: 'vigil start [--processes N]',
  details: `${processesHelp('Default: the worker runs in this process, beside the gateway.')}\n\n${ENVIRONMENT}`,
  options: PROCESSES_OPTION,
  run: async (parsed) => {
    const config = loadConfig();
    const processes = processesOption(parsed, config, undefined);
    const { serveUntilSignal } = await import('./serve-process.ts');
    await serveUntilSignal(config, processes === undefined ? { gateway: true, worker: true } : { gateway: true, worker: false, workerProcesses: processes });
    return 0;
  },
};

const worker: Command = {
  words: ['worker'],
  summary: 'Run the stream worker and runbooks only (no HTTP port unless VIGIL_METRICS_PORT).',
  usage: 'vigil worker [--processes N]',
  details: `${processesHelp('Default: one per core of this machine; 1: the worker runs in this process, no supervisor.')}\n\n${ENVIRONMENT}`,
  options: PROCESSES_OPTION,
  run: async (parsed) => {
    const config = loadConfig();
    const processes = processesOption(parsed, config, Math.min(availableParallelism(), MAX_PROCESSES));
    if (processes === 1) {
      const { serveUntilSignal } = await import('./serve-process.ts');
      await serveUntilSignal(config, { gateway: false, worker: true });
      return 0;
    }
    // The supervisor loads neither the worker nor the gateway: it only starts and watches processes.
    const { superviseUntilSignal } = await import('../app/supervisor.ts');
    const { createLogger } = await import('../telemetry/logger.ts');
    const log = createLogger(config.logLevel).child({ component: 'supervisor' });
    return superviseUntilSignal({ processes, metricsPort: config.metricsPort, log });
  },
};

export const serveCommands: Command[] = [start, gateway, worker];
