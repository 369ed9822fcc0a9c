import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { TEST_ADMIN_KEY, TEST_DATABASE_URL, TEST_KAFKA_BROKERS, TEST_REDIS_URL, TEST_WEBHOOK_ALLOW } from './env.ts';

/** A `vigil` command running as its own process, as in production. */
export interface VigilProcess {
  child: ChildProcess;
  /** Everything it wrote so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

export function spawnVigil(args: string[], env: Record<string, string> = {}): VigilProcess {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'vigil.mjs'), ...args], {
    env: {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      VIGIL_ADMIN_KEY: TEST_ADMIN_KEY,
      LOG_LEVEL: 'info',
      // Canaries add offsets that tests counting events would see: off unless a test asks.
      VIGIL_CANARY_MS: '0',
      VIGIL_WEBHOOK_ALLOW: TEST_WEBHOOK_ALLOW,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => output, exited, kill: (signal) => child.kill(signal) };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined/null/false, or fails after `timeoutMs` with `describe()`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  describe: () => string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
