/**
 * The fault suite's own Redis: a child `redis-server` on a port of its own,
 * no save points and no AOF (`--save '' --appendonly no`), so a SIGKILL loses
 * everything (the suite also deletes any snapshot). A graceful restart uses `SHUTDOWN SAVE`, which writes one RDB
 * snapshot into the suite's temp dir that the next start loads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isAlive, run, signal, waitForExit, waitUntil, type Log } from './proc.ts';

export interface RedisServer {
  port: number;
  url: string;
  pid(): number | undefined;
  /** SIGKILL, and the snapshot deleted: the next start is empty. */
  kill(): Promise<void>;
  /** Starts it (after kill: empty). Seconds until PING answers. */
  start(): Promise<number>;
  /** SHUTDOWN SAVE (Redis' graceful stop), then a start that loads the snapshot. Seconds until PING answers. */
  gracefulRestart(): Promise<number>;
  /** Keys in db 0 (DBSIZE). */
  keys(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedis(root: string, port: number, log: Log): Promise<RedisServer> {
  const dir = path.join(root, 'redis');
  mkdirSync(dir, { recursive: true });
  const snapshot = path.join(dir, 'chaos.rdb');
  let child: ChildProcess | undefined;
  const cli = (...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);

  const launch = async () => {
    const out = openSync(path.join(dir, 'redis.log'), 'a');
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', 'chaos.rdb'],
      { stdio: ['ignore', out, out] },
    );
    closeSync(out);
    child.on('error', () => undefined);
    const started = Date.now();
    await waitUntil(async () => (await cli('ping')).trim() === 'PONG', 30_000, () => `redis on ${port} did not answer PING`, 20);
    return (Date.now() - started) / 1000;
  };
  const pid = () => (child?.pid !== undefined && isAlive(child.pid) ? child.pid : undefined);
  const waitGone = async () => {
    const current = child?.pid;
    if (current !== undefined && !(await waitForExit(current, 15_000))) throw new Error(`redis pid ${current} did not exit`);
  };

  await launch();
  log(`redis: ready on 127.0.0.1:${port}`);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid,
    kill: async () => {
      const current = pid();
      if (current !== undefined) signal(current, 'SIGKILL');
      await waitGone();
      rmSync(snapshot, { force: true });
    },
    start: launch,
    gracefulRestart: async () => {
      await cli('shutdown', 'save');
      await waitGone();
      return launch();
    },
    keys: async () => Number((await cli('dbsize')).trim()),
    stop: async () => {
      const current = pid();
      if (current === undefined) return;
      signal(current, 'SIGTERM');
      if (!(await waitForExit(current, 10_000))) signal(current, 'SIGKILL');
      rmSync(snapshot, { force: true });
    },
  };
}
