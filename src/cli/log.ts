import { pino, type Logger } from 'pino';

/**
 * The logger of short CLI commands: JSON lines on stderr, so stdout holds only
 * the command's own output (`--json` answers stay parseable).
 */
export function cliLogger(level: string): Logger {
  return pino({ name: 'vigil', level, base: { pid: process.pid } }, pino.destination(2));
}
