/**
 * Process helpers for the fault suite: run a command to completion, wait for
 * a pid to exit, pick free ports, and poll for a condition with a deadline.
 * This machine's init does not reap orphans, so a dead daemon can linger as a
 * zombie: "alive" means present and not in state Z.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from '../../test/support/processes.ts';

export type Log = (message: string) => void;

/** Runs a command to completion; rejects with its output when it exits non-zero. */
export function run(command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`\`${command} ${args.join(' ')}\` exited ${code}:\n${output.slice(-3000)}`)),
    );
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Sends a signal to one pid, ignoring a process that is already gone. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

// The tests' helper: a port nothing listens on right now (the OS picks it).
export { freePort } from '../../test/support/processes.ts';

/** Whether `port` can be bound on 127.0.0.1 now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `preferred` when it is free, else one the OS picks. */
export async function portNear(preferred: number): Promise<number> {
  return (await portIsFree(preferred)) ? preferred : freePort();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `intervalMs` until it returns something other than
 * undefined/null/false; returns undefined at the deadline instead of throwing,
 * so that a measurement can report "not within N s".
 */
export async function poll<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  intervalMs = 100,
  /** Gives up early (undefined) once this says there is nothing left to wait for. */
  stop?: () => boolean,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (stop?.()) return undefined;
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== null && value !== false) return value as T;
    if (Date.now() > deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** Like poll, but a missed deadline is an error naming what was awaited. */
export async function waitUntil<T>(check: () => Promise<T | undefined | null | false>, timeoutMs: number, what: () => string, intervalMs = 100): Promise<T> {
  const value = await poll(check, timeoutMs, intervalMs);
  if (value === undefined) throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s: ${what()}`);
  return value;
}
