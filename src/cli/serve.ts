/** `vigil start`, `vigil gateway`, `vigil worker`: the long-running processes (serve-process.ts). */
import { loadConfig } from '../core/config.ts';
import type { Command } from './command.ts';

const ENVIRONMENT = `Configuration comes from the environment: PORT (default 4000), DATABASE_URL, REDIS_URL,
KAFKA_BROKERS, VIGIL_ADMIN_KEY, VIGIL_AUDIT_KEY, VIGIL_STATE_DIR, LOG_LEVEL, VIGIL_WEBHOOK_ALLOW,
VIGIL_MAX_EVENT_BYTES, OTEL_EXPORTER_OTLP_ENDPOINT, VIGIL_METRICS_PORT (see docs/cli.md).
Runs until SIGTERM or SIGINT (Ctrl-C), then stops cleanly within 15 s.`;

function serveCommand(word: string, summary: string, roles: { gateway: boolean; worker: boolean }): Command {
  return {
    words: [word],
    summary,
    usage: `vigil ${word}`,
    details: ENVIRONMENT,
    options: {},
    run: async () => {
      const config = loadConfig();
      // Loaded here: the gateway and the schema are heavy, and `vigil help` needs neither.
      const { serveUntilSignal } = await import('./serve-process.ts');
      await serveUntilSignal(config, roles);
      return 0;
    },
  };
}

export const serveCommands: Command[] = [
  serveCommand('start', 'Run the gateway and the worker in one process (what `npm start` runs).', { gateway: true, worker: true }),
  serveCommand('gateway', 'Run the GraphQL gateway only (scale it apart from the workers).', { gateway: true, worker: false }),
  serveCommand('worker', 'Run the stream worker and runbooks only (no HTTP port unless VIGIL_METRICS_PORT).', { gateway: false, worker: true }),
];
