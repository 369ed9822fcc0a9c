/**
 * Starting PostgreSQL and Redis that are installed but not running, at the
 * address the configuration names. PostgreSQL: the distribution's cluster on
 * that port (pg_ctlcluster), or a given data directory (pg_ctl, e.g. a source
 * or non-Debian install, and the tests' private cluster). Redis: a daemonized
 * redis-server on that port with its files under a directory of ours.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { outputOf } from './packages.ts';

const execFileAsync = promisify(execFile);

export interface DebianCluster {
  version: string;
  name: string;
  port: number;
  status: string;
  owner: string;
  dataDir: string;
}

/** The clusters pg_lsclusters knows (Debian and Ubuntu's postgresql-common); empty elsewhere. */
export async function debianClusters(): Promise<DebianCluster[]> {
  const output = await outputOf('pg_lsclusters', ['--no-header']);
  return output ? parseClusters(output) : [];
}

export function parseClusters(output: string): DebianCluster[] {
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 6 && /^\d+$/.test(cols[2]!))
    .map(([version, name, port, status, owner, dataDir]) => ({ version: version!, name: name!, port: Number(port), status: status!, owner: owner!, dataDir: dataDir! }));
}

async function runAs(user: string | undefined, command: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: as root, run its tools as the data directory's owner.
  const [cmd, fullArgs] = asRoot && user && user !== 'root' ? ['runuser', ['-u', user, '--', command, ...args]] : [command, args];
  try {
    await execFileAsync(cmd, fullArgs, { timeout: 180_000 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`\`${[cmd, ...fullArgs].join(' ')}\` failed: ${`${stdout}${stderr}`.trim().slice(-2000) || (error as Error).message}`);
  }
}

/** pg_ctlcluster as root starts the cluster as its owner itself; --skip-systemctl-redirect: no systemd in containers. */
export async function startDebianCluster(cluster: DebianCluster): Promise<void> {
  await runAs(undefined, 'pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, 'start']);
}

function ownerOf(file: string): string | undefined {
  const uid = statSync(file).uid;
  return uid === 0 ? 'root' : uid === process.getuid?.() ? undefined : String(uid);
}

/** pg_ctl on a data directory, listening on `port` whatever its postgresql.conf says; waits until it accepts connections. */
export async function startDataDir(dataDir: string, port: number, binDir: string): Promise<void> {
  const owner = ownerOf(dataDir);
  const user = owner && /^\d+$/.test(owner) ? ((await outputOf('id', ['-nu', owner]))?.trim() ?? owner) : owner;
  await runAs(user, path.join(binDir, 'pg_ctl'), ['-D', dataDir, '-l', path.join(dataDir, 'startup.log'), '-w', '-t', '120', '-o', `-p ${port}`, 'start']);
}

/**
 * redis-server --daemonize yes on host:port, its dump, log and pid file in
 * `dir`. Resolves once the daemon has forked; the caller waits for PING.
 */
export async function startRedisDaemon(host: string, port: number, dir: string): Promise<{ pidFile: string }> {
  mkdirSync(dir, { recursive: true });
  const pidFile = path.join(dir, 'redis.pid');
  await runAs(undefined, 'redis-server', [
    '--port', String(port),
    '--bind', host === 'localhost' ? '127.0.0.1' : host,
    '--daemonize', 'yes',
    '--dir', dir,
    '--logfile', path.join(dir, 'redis.log'),
    '--pidfile', pidFile,
  ]);
  return { pidFile };
}
