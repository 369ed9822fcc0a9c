/**
 * A throwaway PostgreSQL cluster for the fault suite: the distribution's own
 * binaries, a data directory under the run's temp dir, its own port and
 * socket directory, trust auth. PostgreSQL refuses to run as root, so when the
 * suite runs as root every pg_ctl call goes through `runuser -u postgres`.
 * Killing or restarting it touches nothing but the suite's own data.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { isAlive, run, signal, waitForExit, type Log } from './proc.ts';

export interface PostgresCluster {
  port: number;
  dataDir: string;
  /** postmaster pid (it daemonizes: not a child of the suite). */
  pid(): number | undefined;
  url(database: string): string;
  /** `pg_ctl restart -m <mode>`; resolves when the server accepts connections again (seconds taken). */
  restart(mode: 'fast' | 'immediate'): Promise<number>;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error(`no PostgreSQL server binaries under ${root} (install the postgresql package)`);
  return path.join(root, versions[0], 'bin');
}

/** uid and gid of the `postgres` OS user. */
function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function startPostgres(root: string, port: number, log: Log): Promise<PostgresCluster> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const dir = path.join(root, 'postgres');
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'socket');
  const logFile = path.join(dir, 'server.log');
  mkdirSync(socketDir, { recursive: true });
  if (asRoot) {
    const { uid, gid } = postgresUser();
    // The run's root came from mkdtemp (mode 700): postgres must be able to walk into it.
    chmodSync(root, 0o755);
    chownSync(dir, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  const pgRun = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args);

  log(`postgres: initdb in ${dataDir} (${bin})`);
  await pgRun('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions', '--no-sync']);
  const options = [
    `-p ${port}`,
    `-c listen_addresses=127.0.0.1`,
    `-c unix_socket_directories=${socketDir}`,
    '-c max_connections=200',
  ].join(' ');
  await pgRun('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '120', '-o', options, 'start']);
  log(`postgres: ready on 127.0.0.1:${port}`);

  const pid = () => {
    try {
      const value = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(value) && value > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  const answers = async () => {
    const client = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  return {
    port,
    dataDir,
    pid,
    url,
    restart: async (mode) => {
      const started = Date.now();
      // pg_ctl restart reuses the options recorded in postmaster.opts; -w waits until it accepts connections.
      await pgRun('pg_ctl', ['-D', dataDir, '-l', logFile, '-m', mode, '-w', '-t', '120', 'restart']);
      while (!(await answers())) {
        if (Date.now() - started > 120_000) throw new Error('postgres did not answer within 120 s of a restart');
      }
      return (Date.now() - started) / 1000;
    },
    stop: async () => {
      const current = pid();
      if (current === undefined || !isAlive(current)) return;
      await pgRun('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']).catch(() => undefined);
      if (!(await waitForExit(current, 5_000))) signal(current, 'SIGKILL');
    },
  };
}
