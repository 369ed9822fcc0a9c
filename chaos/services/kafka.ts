/**
 * The fault suite's own Kafka broker: one KRaft node (broker and controller in
 * one JVM) from the same jars as the project's broker (.vigil/kafka/libs,
 * fetched by `vigil services`; see src/services/kafka-broker.ts), but on ports
 * and in a data dir of its own, as a child of the suite. The properties are
 * the project's, with the ports and log dir changed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { brokerPaths, fetchJarsIfMissing, kafkaAnswers } from '../../dev/kafka-broker.ts';
import { isAlive, run, signal, waitForExit, type Log } from './proc.ts';

export interface KafkaBroker {
  brokers: string[];
  pid(): number | undefined;
  /** SIGKILL: no flush, no controlled shutdown. */
  kill(): Promise<void>;
  /** Starts it on the same data dir; resolves with the seconds until it answers (its own restart time). */
  start(): Promise<number>;
  stop(): Promise<void>;
}

const properties = (port: number, controllerPort: number, dataDir: string) => `# Written by chaos/services/kafka.ts for the fault suite's own broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${dataDir}
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
`;

export async function startKafka(root: string, ports: { broker: number; controller: number }, log: Log): Promise<KafkaBroker> {
  // A clean clone beside an already running broker has no jars of its own yet.
  await fetchJarsIfMissing(PROJECT_ROOT, brokerPaths(PROJECT_ROOT), log);
  const libs = brokerPaths(PROJECT_ROOT).libs;
  const dir = path.join(root, 'kafka');
  const dataDir = path.join(dir, 'data');
  const logsDir = path.join(dir, 'logs');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  const serverProperties = path.join(dir, 'server.properties');
  writeFileSync(serverProperties, properties(ports.broker, ports.controller, dataDir));
  const javaLogging = [`-Dlog4j.configuration=file:${path.join(PROJECT_ROOT, 'kafka', 'log4j.properties')}`, `-Dkafka.logs.dir=${logsDir}`];
  const classpath = path.join(libs, '*');
  // A Kafka cluster id is 16 random bytes in URL-safe base64, as `StorageTool random-uuid` prints.
  const clusterId = randomBytes(16).toString('base64url');
  await run('java', [...javaLogging, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', serverProperties]);

  const brokers = [`127.0.0.1:${ports.broker}`];
  let child: ChildProcess | undefined;
  const pid = () => (child?.pid !== undefined && isAlive(child.pid) ? child.pid : undefined);
  const start = async () => {
    const started = Date.now();
    const out = openSync(path.join(logsDir, 'console.log'), 'a');
    child = spawn('java', ['-Xms384m', '-Xmx384m', '-XX:+UseG1GC', ...javaLogging, '-cp', classpath, 'kafka.Kafka', serverProperties], {
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    child.on('error', () => undefined);
    const current = child.pid;
    for (;;) {
      if (await kafkaAnswers(brokers, 1000)) return (Date.now() - started) / 1000;
      if (current === undefined || !isAlive(current)) throw new Error(`the chaos Kafka broker exited during start-up; see ${logsDir}`);
      if (Date.now() - started > 180_000) throw new Error(`the chaos Kafka broker did not answer within 180 s; see ${logsDir}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const seconds = await start();
  log(`kafka: ready on ${brokers[0]} after ${seconds.toFixed(1)} s`);
  return {
    brokers,
    pid,
    start,
    kill: async () => {
      const current = pid();
      if (current === undefined) return;
      signal(current, 'SIGKILL');
      await waitForExit(current, 15_000);
    },
    stop: async () => {
      const current = pid();
      if (current === undefined) return;
      signal(current, 'SIGTERM');
      if (!(await waitForExit(current, 30_000))) {
        signal(current, 'SIGKILL');
        await waitForExit(current, 5_000);
      }
    },
  };
}
