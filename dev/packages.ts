/**
 * What a fresh Debian or Ubuntu machine lacks for the local services, and
 * installing it from the distribution's packages when we may (root, or sudo
 * without a password). Otherwise the caller prints the exact command.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export type Tool = 'java' | 'maven' | 'postgresql' | 'redis';

/** Output of a command (stdout and stderr), or undefined when it is missing or fails. */
export async function outputOf(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { timeout: 30_000 });
    return `${stdout}${stderr}`;
  } catch {
    return undefined;
  }
}

/** The Java runtime's version ("17.0.15"), or undefined when there is no `java`. */
export async function javaVersion(): Promise<string | undefined> {
  const output = await outputOf('java', ['-version']);
  return output ? /version "([^"]+)"/.exec(output)?.[1] : undefined;
}

/** Kafka 3.9 needs Java 11+, Vigil asks for 17 (what CI runs). "1.8.0_392" is 8. */
export function javaMajor(version: string): number {
  const parts = version.split(/[._-]/).map(Number);
  return parts[0] === 1 ? parts[1]! : parts[0]!;
}

export async function mavenVersion(): Promise<string | undefined> {
  const output = await outputOf('mvn', ['-v']);
  return output ? /Apache Maven ([\d.]+)/.exec(output)?.[1] : undefined;
}

/** The newest PostgreSQL server binaries of the distribution's layout (/usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return majors[0] ? path.join(root, majors[0], 'bin') : undefined;
}

export async function redisServerVersion(): Promise<string | undefined> {
  const output = await outputOf('redis-server', ['--version']);
  return output ? /v=(\S+)/.exec(output)?.[1] : undefined;
}

/** How we may run apt-get: directly (root), through passwordless sudo, or not at all. */
export async function privilege(): Promise<'root' | 'sudo' | 'none'> {
  if (process.getuid?.() === 0) return 'root';
  return (await outputOf('sudo', ['-n', 'true'])) !== undefined ? 'sudo' : 'none';
}

export function hasApt(): boolean {
  return existsSync('/usr/bin/apt-get');
}

/** Whether apt knows a package with an installable candidate (Java 17 is not in every release). */
async function hasCandidate(name: string): Promise<boolean> {
  const output = await outputOf('apt-cache', ['policy', name]);
  return output !== undefined && /Candidate: (?!\(none\))/.test(output);
}

/** The distribution's package for each tool; Java 17 if the release has it, else its newer LTS. */
export async function packagesFor(tools: readonly Tool[]): Promise<string[]> {
  const names: string[] = [];
  for (const tool of tools) {
    if (tool === 'java') {
      let chosen = 'openjdk-17-jre-headless';
      for (const candidate of ['openjdk-17-jre-headless', 'openjdk-21-jre-headless', 'default-jre-headless']) {
        if (await hasCandidate(candidate)) {
          chosen = candidate;
          break;
        }
      }
      names.push(chosen);
    } else {
      names.push({ maven: 'maven', postgresql: 'postgresql', redis: 'redis-server' }[tool]);
    }
  }
  return names;
}

/** The command a person runs to install them, e.g. for the "cannot install" message. */
export function installCommand(packages: readonly string[]): string {
  return `sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`;
}

/** apt-get update and install, as root or through sudo -n; rejects with apt's output on failure. */
export async function aptInstall(packages: readonly string[], how: 'root' | 'sudo', log: (line: string) => void): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = async (args: string[]) => {
    const [command, fullArgs] = how === 'root' ? ['apt-get', args] : ['sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]];
    try {
      await execFileAsync(command as string, fullArgs as string[], { env, timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`apt-get ${args.join(' ')} failed:\n${`${stdout}${stderr}`.slice(-3000)}`);
    }
  };
  log(`installing ${packages.join(', ')} (apt-get, as ${how === 'root' ? 'root' : 'sudo'}) ...`);
  await run(['update', '-qq']);
  await run(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
}
