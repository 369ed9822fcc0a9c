import { pino, type Logger } from 'pino';

/** The root logger; components take a child (`log.child({ component })`) passed in, never imported. */
export function createLogger(level: string, name = 'vigil'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
