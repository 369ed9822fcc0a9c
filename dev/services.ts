/**
 * `vigil services`: brings a development machine's PostgreSQL, Redis and
 * Kafka to the addresses the configuration names. Local ones (127.0.0.1,
 * localhost) that do not answer are installed when missing (apt, as root or
 * with passwordless sudo) and started when stopped; remote ones are only
 * checked. Every component is reported with its version and address, and
 * what could not be done comes with the command that does it.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { brokerPaths, ensureKafkaBroker, kafkaAnswers } from './kafka-broker.ts';
import { addressOf, isLocalHost, probePostgres, probeRedis, type Probe } from './local-services.ts';
import { aptInstall, hasApt, installCommand, javaMajor, javaVersion, mavenVersion, packagesFor, postgresBinDir, privilege, redisServerVersion, type Tool } from './packages.ts';
import { debianClusters, startDataDir, startDebianCluster, startRedisDaemon } from './start-stopped.ts';

export type ComponentState = 'answering' | 'started' | 'installed' | 'missing' | 'down' | 'failing';

export interface ComponentReport {
  name: 'postgresql' | 'redis' | 'kafka' | 'java' | 'maven';
  version: string | null;
  /** host:port for servers, the command's path for tools. */
  address: string | null;
  state: ComponentState;
  /** What is wrong and the command that fixes it (states missing, down, failing). */
  detail?: string;
}

export interface ServicesOptions {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
  projectRoot: string;
  /** Where a Redis started here keeps its dump, log and pid file (default <stateDir>/redis-<port>). */
  stateDir: string;
  /** A data directory to start (pg_ctl) when PostgreSQL is down, instead of the distribution's cluster on that port. */
  postgresDataDir?: string | undefined;
  redisDir?: string | undefined;
  /** Which servers to bring up (default all three); the tests leave the shared Kafka alone. */
  only?: ReadonlyArray<'postgresql' | 'redis' | 'kafka'>;
  /** Install missing packages when allowed (default true). */
  install?: boolean;
  log: (line: string) => void;
}

export interface ServicesReport {
  ok: boolean;
  components: ComponentReport[];
}

const UP: ComponentState[] = ['answering', 'started', 'installed'];

async function waitForProbe(probe: () => Promise<Probe>, timeoutMs: number): Promise<Probe> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (result.ok || Date.now() > deadline) return result;
    await sleep(250);
  }
}

function kafkaVersion(projectRoot: string): string | null {
  const { libs } = brokerPaths(projectRoot);
  const jar = existsSync(libs) ? readdirSync(libs).find((f) => /^kafka_[\d.]+-[\d.]+\.jar$/.test(f)) : undefined;
  return jar ? /-([\d.]+)\.jar$/.exec(jar)![1]!.replace(/\.$/, '') : null;
}

function hasBrokerJars(projectRoot: string): boolean {
  return kafkaVersion(projectRoot) !== null;
}

export async function ensureServices(options: ServicesOptions): Promise<ServicesReport> {
  const { log } = options;
  const wanted = new Set(options.only ?? ['postgresql', 'redis', 'kafka']);
  const pgAt = addressOf(options.databaseUrl, 5432);
  const redisAt = addressOf(options.redisUrl, 6379);
  const kafkaLocal = options.kafkaBrokers.every((b) => isLocalHost(b.slice(0, b.lastIndexOf(':')).replace(/^\[|\]$/g, '')));

  const [pgFirst, redisFirst, kafkaFirst] = await Promise.all([
    wanted.has('postgresql') ? probePostgres(options.databaseUrl) : undefined,
    wanted.has('redis') ? probeRedis(options.redisUrl) : undefined,
    wanted.has('kafka') ? kafkaAnswers(options.kafkaBrokers) : undefined,
  ]);
  const pgToStart = pgFirst && !pgFirst.ok && pgFirst.refused && isLocalHost(pgAt.host);
  const redisToStart = redisFirst && !redisFirst.ok && redisFirst.refused && isLocalHost(redisAt.host);
  const kafkaToStart = kafkaFirst === false && kafkaLocal;

  // What the machine lacks to start what is down here.
  const java = await javaVersion();
  const maven = await mavenVersion();
  const lacking: Tool[] = [];
  if (pgToStart && !options.postgresDataDir && !postgresBinDir()) lacking.push('postgresql');
  if (redisToStart && !(await redisServerVersion())) lacking.push('redis');
  if (kafkaToStart && (!java || javaMajor(java) < 17)) lacking.push('java');
  if (kafkaToStart && !hasBrokerJars(options.projectRoot) && !maven) lacking.push('maven');

  const cannotInstall = new Map<Tool, string>();
  if (lacking.length > 0) {
    const how = options.install === false ? 'none' : await privilege();
    const packages = hasApt() ? await packagesFor(lacking) : [];
    if (!hasApt()) {
      for (const tool of lacking) cannotInstall.set(tool, `install ${tool} with your system's package manager (no apt-get here)`);
    } else if (how === 'none') {
      const command = installCommand(packages);
      log(`missing: ${lacking.join(', ')}; not root and no passwordless sudo, so not installed. Run:\n  ${command}\nthen run \`vigil services\` again.`);
      for (const tool of lacking) cannotInstall.set(tool, `not installed; run: ${command}`);
    } else {
      try {
        await aptInstall(packages, how, log);
      } catch (error) {
        for (const tool of lacking) cannotInstall.set(tool, (error as Error).message);
      }
    }
  }

  const components: ComponentReport[] = [];
  if (pgFirst) components.push(await bringUpPostgres(options, pgFirst, !!pgToStart, cannotInstall.get('postgresql'), lacking.includes('postgresql')));
  if (redisFirst) components.push(await bringUpRedis(options, redisFirst, !!redisToStart, cannotInstall.get('redis'), lacking.includes('redis')));
  if (wanted.has('kafka')) {
    components.push(await bringUpKafka(options, kafkaFirst!, kafkaLocal, [...cannotInstall].filter(([t]) => t === 'java' || t === 'maven').map(([, d]) => d)));
    const javaNow = lacking.includes('java') ? await javaVersion() : java;
    const mavenNow = lacking.includes('maven') ? await mavenVersion() : maven;
    components.push({ name: 'java', version: javaNow ?? null, address: javaNow ? 'java' : null, state: javaNow ? (lacking.includes('java') ? 'installed' : 'answering') : 'missing', ...(javaNow ? {} : { detail: cannotInstall.get('java') ?? 'needed to run the local Kafka broker' }) });
    components.push({ name: 'maven', version: mavenNow ?? null, address: mavenNow ? 'mvn' : null, state: mavenNow ? (lacking.includes('maven') ? 'installed' : 'answering') : hasBrokerJars(options.projectRoot) ? 'answering' : 'missing', ...(mavenNow || hasBrokerJars(options.projectRoot) ? {} : { detail: cannotInstall.get('maven') ?? 'needed once to fetch the Kafka jars' }) });
  }
  const servers = components.filter((c) => c.name !== 'java' && c.name !== 'maven');
  return { ok: servers.every((c) => UP.includes(c.state)), components };
}

async function bringUpPostgres(options: ServicesOptions, first: Probe, toStart: boolean, installProblem: string | undefined, wasLacking: boolean): Promise<ComponentReport> {
  const at = addressOf(options.databaseUrl, 5432);
  const report = (state: ComponentState, version: string | null, detail?: string): ComponentReport => ({ name: 'postgresql', version, address: at.address, state, ...(detail ? { detail } : {}) });
  if (first.ok) return report('answering', first.version);
  if (!toStart) return report(first.refused ? 'down' : 'failing', null, first.refused ? `${first.problem} (not local, so not started here)` : first.problem);
  if (installProblem) return report('missing', null, installProblem);
  try {
    if (options.postgresDataDir) {
      const bin = postgresBinDir();
      if (!bin) return report('missing', null, 'no PostgreSQL server binaries under /usr/lib/postgresql');
      options.log(`postgresql: starting ${options.postgresDataDir} on port ${at.port} ...`);
      await startDataDir(options.postgresDataDir, at.port, bin);
    } else {
      const cluster = (await debianClusters()).find((c) => c.port === at.port);
      if (!cluster) {
        const major = postgresBinDir()?.split('/').at(-2) ?? '15';
        return report('missing', null, `no PostgreSQL cluster on port ${at.port}; create one: sudo pg_createcluster ${major} main --port ${at.port} --start`);
      }
      if (cluster.status === 'online') return report('failing', null, `${first.problem} (cluster ${cluster.version}/${cluster.name} is online but does not answer on ${at.address})`);
      options.log(`postgresql: starting cluster ${cluster.version}/${cluster.name} (pg_ctlcluster) ...`);
      await startDebianCluster(cluster).catch((error: Error) => {
        throw new Error(`${error.message}\nstart it yourself: sudo pg_ctlcluster ${cluster.version} ${cluster.name} start`);
      });
    }
  } catch (error) {
    return report('down', null, (error as Error).message);
  }
  const after = await waitForProbe(() => probePostgres(options.databaseUrl), 60_000);
  if (!after.ok) return report('failing', null, after.problem);
  return report(wasLacking ? 'installed' : 'started', after.version);
}

async function bringUpRedis(options: ServicesOptions, first: Probe, toStart: boolean, installProblem: string | undefined, wasLacking: boolean): Promise<ComponentReport> {
  const at = addressOf(options.redisUrl, 6379);
  const report = (state: ComponentState, version: string | null, detail?: string): ComponentReport => ({ name: 'redis', version, address: at.address, state, ...(detail ? { detail } : {}) });
  if (first.ok) return report('answering', first.version);
  if (!toStart) return report(first.refused ? 'down' : 'failing', null, first.refused ? `${first.problem} (not local, so not started here)` : first.problem);
  if (installProblem) return report('missing', null, installProblem);
  const dir = options.redisDir ?? path.join(options.stateDir, `redis-${at.port}`);
  try {
    options.log(`redis: starting redis-server on ${at.address} (files in ${dir}) ...`);
    await startRedisDaemon(at.host, at.port, dir);
  } catch (error) {
    return report('down', null, `${(error as Error).message}\nstart it yourself: redis-server --port ${at.port} --daemonize yes`);
  }
  const after = await waitForProbe(() => probeRedis(options.redisUrl), 30_000);
  if (!after.ok) return report('failing', null, after.problem);
  return report(wasLacking ? 'installed' : 'started', after.version);
}

async function bringUpKafka(options: ServicesOptions, answered: boolean, local: boolean, toolProblems: string[]): Promise<ComponentReport> {
  const address = options.kafkaBrokers.join(',');
  const version = local ? kafkaVersion(options.projectRoot) : null;
  if (answered) return { name: 'kafka', version, address, state: 'answering' };
  if (!local) return { name: 'kafka', version, address, state: 'down', detail: `nothing answers on ${address} (not local, so not started here)` };
  if (toolProblems.length > 0) return { name: 'kafka', version, address, state: 'missing', detail: toolProblems.join('; ') };
  try {
    const { started } = await ensureKafkaBroker({ projectRoot: options.projectRoot, brokers: options.kafkaBrokers, log: options.log });
    return { name: 'kafka', version: kafkaVersion(options.projectRoot), address, state: started ? 'started' : 'answering' };
  } catch (error) {
    return { name: 'kafka', version, address, state: 'down', detail: (error as Error).message };
  }
}
