/**
 * What the cost, publish and memory benchmarks share with bench:pipeline:
 * settings from the environment, progress lines, CPU (of this process or of
 * a child's process tree) and rate arithmetic,
 * the seeded producer, the raw kafkajs drain, and cleanup of topics and the
 * bench database.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, platform, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, Partitioners, type Consumer } from 'kafkajs';
import pg from 'pg';
import type { IncomingMessage } from '../src/stream/transport.ts';
import type { LatencyEvents } from './events.ts';

export function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`${name} must be an integer >= ${min}, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

const started = performance.now();
export function progress(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[${seconds}s] ${message}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** CPU of the whole process (every thread: V8's GC helpers, libuv, the Prisma engine) since `since`, in µs. */
export function cpuMicros(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

export interface Rate {
  events: number;
  seconds: number;
  perSecond: number;
  cpuMicrosPerEvent: number;
  /** CPU time over wall time: 1.0 is one core busy all along. */
  cores: number;
}

export function rate(events: number, fromMs: number, toMs: number, cpu: number): Rate {
  const seconds = (toMs - fromMs) / 1000;
  return { events, seconds, perSecond: events / seconds, cpuMicrosPerEvent: cpu / events, cores: cpu / 1e6 / seconds };
}

/** Times `work` (wall and process CPU) for `events` events. */
export async function timed(events: number, work: () => unknown): Promise<Rate> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await work();
  const end = performance.now();
  return rate(events, t, end, cpuMicros(cpu));
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()}/${arch()}, node ${process.version}`;
}

export function printTable(title: string, table: [string, string][]): void {
  const width = Math.max(...table.map(([k]) => k.length));
  console.log(`\n${title}`);
  for (const [key, value] of table) console.log(`  ${key.padEnd(width)}  ${value}`);
  console.log('');
}

export const kafkaClient = (brokers: string[], clientId: string) => new Kafka({ clientId, brokers, logLevel: logLevel.WARN });

/** The seeded history, `events` of it, produced in sends of `batch` (kafkajs, default partitioner, as bench:pipeline). */
export async function produceSeeded(kafka: Kafka, topic: string, generator: LatencyEvents, events: number, batch = 5000): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const t = performance.now();
    let lastReport = t;
    for (let sent = 0; sent < events; ) {
      const count = Math.min(batch, events - sent);
      await producer.send({ topic, messages: generator.next(count) });
      sent += count;
      if (performance.now() - lastReport > 2000) {
        lastReport = performance.now();
        progress(`produced ${fmtInt(sent)}/${fmtInt(events)}`);
      }
    }
    progress(`produced ${fmtInt(events)} events (${generator.outliers} seeded outliers) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } finally {
    await producer.disconnect();
  }
}

/** A batch as the worker receives it from its kafkajs adapter (kafkajs-consumer.ts). */
export interface CapturedBatch {
  partition: number;
  messages: IncomingMessage[];
}

export interface DrainSettings {
  brokers: string[];
  topic: string;
  groupId: string;
  events: number;
  sessionTimeoutMs: number;
  fetchMaxBytes: number;
  /** Keep every batch, converted as the worker's adapter converts it (not timed: see rawDrain). */
  capture?: CapturedBatch[];
}

const NO_HEADERS: Record<string, string> = {};

/**
 * A plain kafkajs consumer with the worker's fetch settings (3 partitions at
 * once, maxBytesPerPartition, 200 ms max wait) that only counts messages,
 * timed from its first batch to the last event. With `capture` it also keeps
 * the batches; that run is not the one to time.
 */
export async function rawDrain(kafka: Kafka, settings: DrainSettings, label: string): Promise<Rate> {
  const { events, capture } = settings;
  const consumer: Consumer = kafka.consumer({
    groupId: settings.groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: 1_000,
    maxBytesPerPartition: settings.fetchMaxBytes,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [settings.topic], fromBeginning: true });
    let count = 0;
    let first = 0;
    let cpuAtFirst = process.cpuUsage();
    let done!: (r: Rate) => void;
    const finished = new Promise<Rate>((resolve) => (done = resolve));
    await consumer.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        if (count === 0) {
          first = performance.now();
          cpuAtFirst = process.cpuUsage();
        }
        const before = count;
        count += batch.messages.length;
        if (capture && before < events) {
          const messages = batch.messages.map((m) => ({
            offset: m.offset,
            key: m.key ? m.key.toString('utf8') : null,
            value: m.value,
            timestamp: Number(m.timestamp),
            headers: NO_HEADERS,
          }));
          capture.push({ partition: batch.partition, messages });
        }
        if (before < events && count >= events) done(rate(events, first, performance.now(), cpuMicros(cpuAtFirst)));
      },
    });
    const result = await finished;
    progress(`${label}: drained ${fmtInt(events)} in ${result.seconds.toFixed(2)} s (${fmtInt(result.perSecond)} events/s, ${result.cpuMicrosPerEvent.toFixed(2)} µs CPU/event)`);
    return result;
  } finally {
    await consumer.disconnect();
  }
}

/** The median run by `by` (events/s, or CPU per event where CPU is what is summed). */
export const median = (rates: Rate[], by: 'perSecond' | 'cpuMicrosPerEvent' = 'perSecond'): Rate =>
  [...rates].sort((a, b) => a[by] - b[by])[(rates.length - 1) >> 1]!;

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const gone = topics.filter((t) => existing.has(t));
    if (gone.length > 0) await admin.deleteTopics({ topics: gone, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Runs each cleanup step, reporting (not throwing) a failure so the others still run. */
export async function cleanupStep(what: string, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    console.error(`cleanup: ${what} failed: ${(error as Error).message}`);
  }
}

/** Ticks per second of /proc's CPU times; asked on first use, not by every bench that imports the kit. */
let clockTicks: number | undefined;

/** The pid and every descendant of it that is alive now (Linux: /proc/<pid>/task/<pid>/children). */
export function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return [pid, ...children.flatMap(processTree)];
}

/** User + system CPU of the tree under `pid`, in µs. */
export function treeCpuMicros(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${member}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Exited between the listing and the read.
    }
  }
  return (ticks / ticksPerSecond()) * 1e6;
}

/** Clock ticks per second of /proc's CPU times. */
export function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return clockTicks;
}
