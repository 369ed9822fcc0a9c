// A single-node Kafka broker (KRaft, 3.9.1) for local development and the
// integration tests. No Docker here and no broker package in apt or npm, so
// the jars come from Maven Central via kafka/pom.xml and the JVM runs
// detached, outliving the command that started it. See /work/shared/kafka.md.
import { spawn, type SpawnOptions } from 'node:child_process';
import { openSync, closeSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';

export interface BrokerPaths {
  root: string;
  libs: string;
  data: string;
  logs: string;
  pidFile: string;
}

export function brokerPaths(projectRoot: string): BrokerPaths {
  const root = path.resolve(projectRoot, '.vigil', 'kafka');
  return {
    root,
    libs: path.join(root, 'libs'),
    data: path.join(root, 'data'),
    logs: path.join(root, 'logs'),
    pidFile: path.join(root, 'kafka.pid'),
  };
}

const DEFAULT_BROKERS = ['127.0.0.1:9092'];
const SERVER_PROPERTIES = (dataDir: string) => `# Written by dev/kafka-broker.ts on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:9092
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${dataDir}
num.partitions=3
# The defaults assume three brokers; with one, consumer groups never find a coordinator.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Otherwise every first group join in a test waits 3 s.
group.initial.rebalance.delay.ms=0
# Auto-creation races with the first produce under KRaft; topics are created explicitly.
auto.create.topics.enable=false
`;

export async function kafkaAnswers(brokers: string[], timeoutMs = 2000): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'vigil-broker-probe',
    brokers,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  // kafkajs' own timeouts do not cover every stage of connecting, so cap the whole probe.
  // A plain timer, cleared below, so that a finished probe does not keep a CLI alive.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs + 500, false)));
  const probe = admin.connect().then(() => admin.describeCluster()).then(() => true, () => false);
  try {
    return await Promise.race([probe, timedOut]);
  } finally {
    clearTimeout(timer);
    admin.disconnect().catch(() => undefined);
  }
}

type Log = (msg: string) => void;

export async function ensureKafkaBroker(opts: {
  projectRoot: string;
  brokers?: string[];
  log?: Log;
  readyTimeoutMs?: number;
}): Promise<{ started: boolean; pid?: number }> {
  const brokers = opts.brokers ?? DEFAULT_BROKERS;
  const log = opts.log ?? (() => undefined);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  if (await kafkaAnswers(brokers)) return { started: false };

  const paths = brokerPaths(opts.projectRoot);
  await mkdir(paths.root, { recursive: true });
  const releaseLock = await acquireStartLock(paths.root, () => kafkaAnswers(brokers));
  if (!releaseLock) return { started: false }; // another caller started it while we waited
  try {
    // Re-check under the lock: a caller that held it may have just finished.
    if (await kafkaAnswers(brokers)) return { started: false };
    const earlier = await readPid(paths.pidFile);
    if (earlier !== undefined && isBrokerProcess(earlier)) {
      log(`Kafka broker (pid ${earlier}) is running but not answering yet; waiting for it.`);
      await waitUntilReady(brokers, earlier, readyTimeoutMs, paths);
      return { started: false };
    }

    const projectRoot = path.resolve(opts.projectRoot);
    await fetchJarsIfMissing(projectRoot, paths, log);
    const log4jConfig = path.join(projectRoot, 'kafka', 'log4j.properties');
    const javaLogging = [`-Dlog4j.configuration=file:${log4jConfig}`, `-Dkafka.logs.dir=${paths.logs}`];
    const classpath = path.join(paths.libs, '*'); // java expands the wildcard itself
    const serverProperties = path.join(paths.root, 'server.properties');
    await mkdir(paths.data, { recursive: true });
    await mkdir(paths.logs, { recursive: true });
    await writeFile(serverProperties, SERVER_PROPERTIES(paths.data));

    const clusterId = await stableClusterId(paths, classpath, javaLogging);
    await run('java', [...javaLogging, '-cp', classpath, 'kafka.tools.StorageTool', 'format',
      '-t', clusterId, '-c', serverProperties, '--ignore-formatted']);

    log('Starting Kafka broker on 127.0.0.1:9092 ...');
    const consoleLog = openSync(path.join(paths.logs, 'console.log'), 'a');
    const broker = spawn('java', ['-Xms512m', '-Xmx512m', '-XX:+UseG1GC', ...javaLogging,
      '-cp', classpath, 'kafka.Kafka', serverProperties],
      { cwd: paths.root, detached: true, stdio: ['ignore', consoleLog, consoleLog] });
    closeSync(consoleLog);
    broker.on('error', () => undefined); // a missing java was already reported by StorageTool
    broker.unref();
    if (broker.pid === undefined) throw new Error('Could not start the Kafka broker: `java` did not launch.');
    await writeFile(paths.pidFile, `${broker.pid}\n`);

    const startedAt = Date.now();
    await waitUntilReady(brokers, broker.pid, readyTimeoutMs, paths);
    log(`Kafka broker ready (pid ${broker.pid}) after ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`);
    return { started: true, pid: broker.pid };
  } finally {
    await releaseLock();
  }
}

export async function stopKafkaBroker(opts: { projectRoot: string; log?: Log }): Promise<boolean> {
  const { pidFile } = brokerPaths(opts.projectRoot);
  const log = opts.log ?? (() => undefined);
  const pid = await readPid(pidFile);
  if (pid === undefined || !isBrokerProcess(pid)) {
    await rm(pidFile, { force: true });
    return false;
  }
  log(`Stopping Kafka broker (pid ${pid}) ...`);
  signal(pid, 'SIGTERM'); // lets the broker flush its logs and close its segments cleanly
  if (!(await waitForExit(pid, 30_000))) {
    log('Kafka broker ignored SIGTERM for 30 s; killing it.');
    signal(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
  await rm(pidFile, { force: true });
  return true;
}

async function waitUntilReady(brokers: string[], pid: number, timeoutMs: number, paths: BrokerPaths) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await kafkaAnswers(brokers, 1000)) return;
    if (!isAlive(pid)) {
      await rm(paths.pidFile, { force: true });
      throw new Error(`Kafka broker (pid ${pid}) exited during start-up. ${logTail(paths)}`);
    }
    await sleep(500);
  }
  throw new Error(`Kafka broker (pid ${pid}) did not answer on ${brokers.join(',')} within ` +
    `${timeoutMs / 1000} s; it is left running. ${logTail(paths)}`);
}

/** The broker jars under .vigil/kafka/libs, fetched with Maven unless present (also used by the fault suite's own broker). */
export async function fetchJarsIfMissing(projectRoot: string, paths: BrokerPaths, log: Log) {
  const hasJars = existsSync(paths.libs) && readdirSync(paths.libs).some((f) => f.endsWith('.jar'));
  if (hasJars) return;
  log('Fetching the Kafka 3.9.1 broker jars with Maven. The first run on this machine downloads ' +
    'about 50 MB from Maven Central into ~/.m2; later runs copy them from there.');
  // Copied aside and renamed at the end, so that an interrupted download is not mistaken for a complete one.
  const partial = `${paths.libs}.partial`;
  await rm(partial, { recursive: true, force: true });
  await run('mvn', ['-B', '-q', '-f', path.join(projectRoot, 'kafka', 'pom.xml'),
    'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${partial}`]);
  await rm(paths.libs, { recursive: true, force: true });
  await rename(partial, paths.libs);
}

// Kept in a file so that a restart reuses the formatted data dir instead of colliding with it.
async function stableClusterId(paths: BrokerPaths, classpath: string, javaLogging: string[]) {
  const idFile = path.join(paths.root, 'cluster-id');
  const saved = (await readFile(idFile, 'utf8').catch(() => '')).trim();
  if (saved) return saved;
  const formatted = (await readFile(path.join(paths.data, 'meta.properties'), 'utf8').catch(() => ''))
    .match(/^cluster\.id=(.+)$/m)?.[1]?.trim();
  const id = formatted ?? (await run('java', [...javaLogging, '-cp', classpath,
    'kafka.tools.StorageTool', 'random-uuid'])).trim().split('\n').pop()!.trim();
  await writeFile(idFile, `${id}\n`);
  return id;
}

const INSTALL_HINTS: Record<string, string> = {
  java: 'Install a JDK 17 or newer (e.g. `apt-get install openjdk-17-jdk-headless`).',
  mvn: 'Install Apache Maven 3.8+ (e.g. `apt-get install maven`).',
};

function run(command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT'
      ? new Error(`\`${command}\` was not found on PATH; the local Kafka broker needs it. ${INSTALL_HINTS[command] ?? ''}`)
      : err));
    child.on('close', (code) => code === 0 ? resolve(output)
      : reject(new Error(`\`${command} ${args.join(' ')}\` failed with exit code ${code}:\n${output.slice(-4000)}`)));
  });
}

// A lock file holding the owner's pid keeps two callers from starting two JVMs that fight over
// the same ports and data dir. Returns undefined when the broker came up while we waited.
async function acquireStartLock(root: string, brokerAnswers: () => Promise<boolean>) {
  const lockFile = path.join(root, 'start.lock');
  const giveUpAt = Date.now() + 15 * 60_000; // a first jar download may take minutes
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readPid(lockFile);
    // An unreadable pid may be an owner that has not written it yet, so only a dead owner is stale.
    if (owner !== undefined && !isAlive(owner)) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (await brokerAnswers()) return undefined;
    if (Date.now() > giveUpAt) throw new Error(`Timed out waiting for ${lockFile} (held by pid ${owner}).`);
    await sleep(1000);
  }
}

async function readPid(file: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

// This machine's init does not reap orphans, so a dead broker can linger as a zombie.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readProc(pid, 'stat');
  return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

// Guards against a recycled pid: never signal a process that is not our broker.
function isBrokerProcess(pid: number): boolean {
  const cmdline = readProc(pid, 'cmdline');
  return isAlive(pid) && (cmdline === undefined || cmdline.includes('kafka.Kafka'));
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name);
  } catch (err) {
    // It may have exited since we looked, which is what we wanted anyway.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}

// console.log gets only JVM errors and broker warnings, so its tail is where a fatal start-up
// error shows; server.log has the INFO context around it.
function logTail(paths: BrokerPaths, lines = 30): string {
  const serverLog = path.join(paths.logs, 'server.log');
  for (const file of [path.join(paths.logs, 'console.log'), serverLog]) {
    const text = existsSync(file) ? readFileSync(file, 'utf8').trimEnd() : '';
    if (text) {
      const tail = text.split('\n').slice(-lines).join('\n');
      return `Last ${lines} lines of ${file}:\n${tail}\n(full log: ${serverLog})`;
    }
  }
  return `No log output in ${paths.logs}.`;
}
