import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './processes.ts';

/**
 * A Redis server of a test's own, on a free port, without persistence: the
 * test may SIGKILL it and start it again empty (Redis losing its data) without
 * touching the Redis other tests share.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILLs the server and waits until it is gone: everything it held is lost. */
  kill(): Promise<void>;
  /** Starts an empty server on the same port after kill(); nothing when it runs already. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child) return;
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = server;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) resolve();
      };
      server.stdout!.on('data', onData);
      server.stderr!.on('data', onData);
      server.once('exit', (code, signal) => {
        if (child === server) child = undefined;
        reject(new Error(`redis-server on ${port} exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
  };

  const kill = async (): Promise<void> => {
    const server = child;
    child = undefined;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const gone = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await gone;
  };

  // A test process that ends without stop() (a crash, a timeout) must not leave the server behind.
  process.once('exit', () => child?.kill('SIGKILL'));
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, kill, start, stop: kill };
}
