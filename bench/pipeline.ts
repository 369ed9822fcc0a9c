/**
 * Pipeline benchmark: events per second through the whole stream worker
 * (Kafka -> contract -> detector -> PostgreSQL), next to a raw kafkajs
 * consumer draining the same topic in the same run; the worker's CPU per
 * event; and produce -> subscriber latency of anomalies over graphql-ws.
 *
 *   npm run bench:pipeline
 *
 * Needs the real PostgreSQL, Redis and Kafka broker (`npx vigil services`).
 * Settings (environment):
 *   BENCH_EVENTS (200000)       events produced before anything is timed
 *   BENCH_PARTITIONS (3)        partitions of the bench topic
 *   BENCH_HOSTS (300)           distinct keys (one detector series each)
 *   BENCH_OUTLIER_EVERY (5000)  one seeded outlier in this many events
 *   BENCH_RAW_RUNS (3)          raw drains (each with a group of its own); the median is reported, as one drain is short
 *   BENCH_LATENCY_OUTLIERS (200), BENCH_LATENCY_SPACING_MS (50), BENCH_LATENCY_FILLER (20 normal events per outlier)
 *   BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/vigil_bench), dropped at the end unless BENCH_KEEP=1
 *   BENCH_TIMEOUT_S (600)       the whole run is aborted after this
 *   BENCH_VERBOSE=1             show the service's info logs (warnings and errors are always shown)
 *   KAFKA_BROKERS, REDIS_URL, and the worker's VIGIL_* settings (e.g. VIGIL_FETCH_MAX_BYTES) apply as in the service.
 */
import { cpus, platform, arch, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../src/core/config.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { openRuntime, type Runtime } from '../src/app/runtime.ts';
import { workerPorts } from '../src/app/worker-side.ts';
import { startWorker, type Worker } from '../src/stream/worker-startup.ts';
import { LATENCY_SCHEMA, LatencyEvents, type BenchMessage } from './events.ts';
import { cleanupStep, cpuMicros, deleteTopics, dropDatabase, fmtInt, intEnv, median, progress, rate, rawDrain, sleep, type Rate } from './kit.ts';

// ---------- settings ----------

const EVENTS = intEnv('BENCH_EVENTS', 200_000);
const PARTITIONS = intEnv('BENCH_PARTITIONS', 3);
const HOSTS = intEnv('BENCH_HOSTS', 300);
const OUTLIER_EVERY = intEnv('BENCH_OUTLIER_EVERY', 5000);
const LATENCY_OUTLIERS = intEnv('BENCH_LATENCY_OUTLIERS', 200);
const LATENCY_SPACING_MS = intEnv('BENCH_LATENCY_SPACING_MS', 50);
const LATENCY_FILLER = intEnv('BENCH_LATENCY_FILLER', 20, 0);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT_S', 600);
const RAW_RUNS = intEnv('BENCH_RAW_RUNS', 3);
const PRODUCE_BATCH = 5000;
const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/vigil_bench';
const KEEP = process.env.BENCH_KEEP === '1';
const VERBOSE = process.env.BENCH_VERBOSE === '1';
const DETECTOR_PARAMS = { window: 300, threshold: 6 };

const RUN_ID = `bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const STREAM = RUN_ID;
const ADMIN_KEY = `bench-admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

// ---------- progress ----------

let phase = 'starting';

/**
 * The service's logger. Warnings and errors go to stderr; the worker's
 * "partition restored" line (its first batch of a partition has arrived)
 * marks the start of the worker's timed phase.
 */
let onPartitionRestored: (() => void) | undefined;
const logSink = {
  write(line: string) {
    if (onPartitionRestored && line.includes('"partition restored"')) onPartitionRestored();
    if (VERBOSE) return void process.stderr.write(line);
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level !== undefined && Number(level) >= 40) process.stderr.write(line);
  },
};
const log: Logger = pino({ name: 'vigil-bench', level: 'info', base: { pid: process.pid } }, logSink);

// ---------- resources, cleaned up whatever happens ----------

let runtime: Runtime | undefined;
let worker: Worker | undefined;
let gateway: Gateway | undefined;
let ws: Client | undefined;
let producer: Producer | undefined;
let poller: pg.Client | undefined;
const kafka = (brokers: string[]) => new Kafka({ clientId: `vigil-${RUN_ID}`, brokers, logLevel: logLevel.WARN });

async function cleanup(config: Config | undefined): Promise<void> {
  const step = cleanupStep;
  await step('graphql-ws client', async () => ws?.dispose());
  await step('gateway', async () => gateway?.close());
  await step('worker', async () => worker?.stop());
  await step('producer', async () => producer?.disconnect());
  await step('poller', async () => poller?.end());
  if (config) await step('topics', () => deleteTopics(kafka(config.kafkaBrokers), [STREAM, `${STREAM}.dlq`]));
  await step('runtime', async () => runtime?.close());
  if (!KEEP) await step('database', () => dropDatabase(DATABASE_URL));
}

// ---------- phases ----------

async function produceAll(config: Config, generator: LatencyEvents): Promise<void> {
  phase = 'producing';
  producer = kafka(config.kafkaBrokers).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const t = performance.now();
  let lastReport = t;
  for (let sent = 0; sent < EVENTS; ) {
    const count = Math.min(PRODUCE_BATCH, EVENTS - sent);
    await producer.send({ topic: STREAM, messages: generator.next(count) });
    sent += count;
    if (performance.now() - lastReport > 2000 || sent === EVENTS) {
      lastReport = performance.now();
      progress(`produced ${fmtInt(sent)}/${fmtInt(EVENTS)}`);
    }
  }
  const seconds = (performance.now() - t) / 1000;
  progress(`produced ${fmtInt(EVENTS)} events (${generator.outliers} seeded outliers) in ${seconds.toFixed(1)} s`);
}

/** The raw drain of bench/kit.ts with the worker's fetch settings, a group of its own per run. */
function rawBaseline(config: Config, run: number): Promise<Rate> {
  phase = 'raw baseline';
  const settings = { brokers: config.kafkaBrokers, topic: STREAM, groupId: `${RUN_ID}-raw-${run}`, events: EVENTS, sessionTimeoutMs: config.sessionTimeoutMs, fetchMaxBytes: config.fetchMaxBytes };
  return rawDrain(kafka(config.kafkaBrokers), settings, `raw ${run}`);
}

async function committed(group: string): Promise<number> {
  const { rows } = await poller!.query<{ n: string }>(
    'SELECT COALESCE(SUM("nextOffset"), 0)::text AS n FROM "ConsumerOffset" WHERE "groupId" = $1 AND "topic" = $2',
    [group, STREAM],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The stream worker in this process, timed from its first batch until its committed offsets cover every event. */
async function workerPhase(config: Config): Promise<Rate> {
  phase = 'worker';
  let first = 0;
  let cpuAtFirst: NodeJS.CpuUsage = process.cpuUsage();
  onPartitionRestored = () => {
    if (first !== 0) return;
    first = performance.now();
    cpuAtFirst = process.cpuUsage();
  };
  worker = await startWorker(workerPorts(runtime!.services), config, log.child({ component: 'worker' }));
  progress(`worker started (group ${config.consumerGroup}); waiting for its committed offsets to reach ${fmtInt(EVENTS)}`);
  let lastReport = performance.now();
  let lastCount = 0;
  let lastMoved = performance.now();
  for (;;) {
    const count = await committed(config.consumerGroup);
    const now = performance.now();
    if (count > 0 && first === 0) {
      // Fallback if the worker's log line was not seen.
      first = now;
      cpuAtFirst = process.cpuUsage();
    }
    if (count >= EVENTS) {
      const result = rate(EVENTS, first, now, cpuMicros(cpuAtFirst));
      progress(`worker: committed ${fmtInt(EVENTS)} in ${result.seconds.toFixed(2)} s`);
      onPartitionRestored = undefined;
      return result;
    }
    if (count !== lastCount) {
      lastCount = count;
      lastMoved = now;
    } else if (now - lastMoved > 60_000) {
      throw new Error(`the worker's committed offsets stalled at ${fmtInt(count)}/${fmtInt(EVENTS)} for 60 s`);
    }
    if (now - lastReport > 2000) {
      lastReport = now;
      progress(`worker: committed ${fmtInt(count)}/${fmtInt(EVENTS)}`);
    }
    await sleep(20);
  }
}

interface Latency {
  sent: number;
  arrived: number;
  p50: number;
  p99: number;
  max: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/**
 * With the worker caught up and an in-process gateway, a graphql-ws
 * subscriber hears anomalies; clear outliers (each with a unique value) are
 * produced among normal events and timed from the producer call to receipt.
 */
async function latencyPhase(config: Config, streamId: string, generator: LatencyEvents): Promise<Latency> {
  phase = 'latency';
  gateway = await startGateway(runtime!.services, log.child({ component: 'gateway' }), 0);
  const receivedAt = new Map<number, number>();
  let subscriptionError: unknown;
  ws = createClient({
    url: `ws://127.0.0.1:${gateway.port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_KEY}` },
    retryAttempts: 0,
  });
  ws.subscribe(
    {
      query: 'subscription($f: AnomalyFilter) { anomalies(filter: $f) { value seriesKey } }',
      variables: { f: { streamId } },
    },
    {
      next: (message) => {
        const now = performance.now();
        if (message.errors) subscriptionError = message.errors;
        const value = (message.data as { anomalies?: { value: number } } | null | undefined)?.anomalies?.value;
        if (typeof value === 'number' && !receivedAt.has(value)) receivedAt.set(value, now);
      },
      error: (error) => (subscriptionError = error),
      complete: () => undefined,
    },
  );

  // Probe until the subscription is live (detectors are warm: every host has hundreds of events).
  const probeBase = 1_000_000;
  let probed = false;
  for (let j = 0; j < 30 && !probed; j++) {
    if (subscriptionError) throw new Error(`subscription failed: ${JSON.stringify(subscriptionError)}`);
    const host = HOSTS - 1 - (j % Math.max(1, Math.floor(HOSTS / 4)));
    await producer!.send({ topic: STREAM, messages: [generator.message(host, probeBase + j, Date.now())] });
    for (let waited = 0; waited < 1000 && !probed; waited += 20) {
      await sleep(20);
      probed = [...receivedAt.keys()].some((v) => v >= probeBase);
    }
  }
  if (!probed) throw new Error(`no probe anomaly reached the subscriber within 30 s${subscriptionError ? `: ${JSON.stringify(subscriptionError)}` : ''}`);
  progress(`latency: subscription live; producing ${LATENCY_OUTLIERS} outliers ${LATENCY_SPACING_MS} ms apart among ${LATENCY_FILLER} normal events each`);

  const sentAt = new Map<number, number>();
  const sends: Promise<unknown>[] = [];
  const base = 10_000;
  const t0 = performance.now();
  for (let i = 0; i < LATENCY_OUTLIERS; i++) {
    const due = t0 + i * LATENCY_SPACING_MS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const now = Date.now();
    const messages: BenchMessage[] = [];
    for (let f = 0; f < LATENCY_FILLER; f++) {
      const host = Math.floor(Math.random() * HOSTS);
      messages.push(generator.message(host, generator.normalValue(host), now));
    }
    const value = base + i;
    messages.splice(Math.floor(Math.random() * (messages.length + 1)), 0, generator.message(i % HOSTS, value, now));
    sentAt.set(value, performance.now());
    sends.push(producer!.send({ topic: STREAM, messages }));
    if (i > 0 && i % 50 === 0) progress(`latency: ${i}/${LATENCY_OUTLIERS} outliers produced, ${[...sentAt.keys()].filter((v) => receivedAt.has(v)).length} received`);
  }
  await Promise.all(sends);
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline && [...sentAt.keys()].some((v) => !receivedAt.has(v))) await sleep(20);
  const latencies = [...sentAt].flatMap(([value, at]) => {
    const got = receivedAt.get(value);
    return got === undefined ? [] : [got - at];
  });
  latencies.sort((a, b) => a - b);
  progress(`latency: ${latencies.length}/${LATENCY_OUTLIERS} anomalies received`);
  if (latencies.length === 0) return { sent: LATENCY_OUTLIERS, arrived: 0, p50: NaN, p99: NaN, max: NaN };
  return {
    sent: LATENCY_OUTLIERS,
    arrived: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1]!,
  };
}

// ---------- main ----------

async function main(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    DATABASE_URL,
    VIGIL_ADMIN_KEY: ADMIN_KEY,
    VIGIL_WORKER_STREAMS: STREAM,
    VIGIL_CONSUMER_GROUP: `${RUN_ID}-worker`,
    LOG_LEVEL: 'info',
    PORT: '0',
  });
  let aborted = false;
  const watchdog = setTimeout(() => {
    aborted = true;
    console.error(`\nABORTED: the benchmark did not finish within ${TIMEOUT_S} s (phase "${phase}" was running); cleaning up`);
    const forced = setTimeout(() => process.exit(3), 30_000);
    forced.unref();
    void cleanup(config).finally(() => process.exit(3));
  }, TIMEOUT_S * 1000);

  try {
    progress(`run ${RUN_ID}: ${fmtInt(EVENTS)} events, ${PARTITIONS} partitions, ${HOSTS} hosts; database ${DATABASE_URL}`);
    runtime = await openRuntime(config, log);
    const { services } = runtime;
    const stream = await services.streams.register(
      { name: STREAM, topic: STREAM, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms', 'errors'], partitions: PARTITIONS },
      'bench',
    );
    await services.detectors.register(
      { streamId: stream.id, name: 'latency-z', field: 'latency_ms', kind: 'ZSCORE', params: DETECTOR_PARAMS },
      'bench',
    );
    poller = new pg.Client({ connectionString: DATABASE_URL });
    await poller.connect();
    progress(`stream ${STREAM} registered with a ZSCORE detector ${JSON.stringify(DETECTOR_PARAMS)} on latency_ms`);

    const generator = new LatencyEvents(HOSTS, OUTLIER_EVERY);
    await produceAll(config, generator);

    const raws: Rate[] = [];
    for (let run = 1; run <= RAW_RUNS; run++) raws.push(await rawBaseline(config, run));
    const raw = median(raws);
    const work = await workerPhase(config);
    const { rows } = await poller.query<{ n: string }>('SELECT count(*)::text AS n FROM "Anomaly" WHERE "streamId" = $1', [stream.id]);
    const bulkAnomalies = Number(rows[0]?.n ?? 0);
    const latency = await latencyPhase(config, stream.id, generator);

    phase = 'cleanup';
    clearTimeout(watchdog);
    const cpu = cpus();
    const table: [string, string][] = [
      ['machine', `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()}/${arch()}`],
      ['node', process.version],
      ['events', `${fmtInt(EVENTS)} over ${PARTITIONS} partitions, ${HOSTS} hosts (series), ${generator.outliers} seeded outliers`],
      ['detector', `ZSCORE window ${DETECTOR_PARAMS.window}, threshold ${DETECTOR_PARAMS.threshold} on latency_ms`],
      ['fetch', `${fmtInt(config.fetchMaxBytes)} bytes per partition, 3 partitions at once (both consumers)`],
      ['checkpoints', `every ${fmtInt(config.checkpointEvents)} events or ${fmtInt(config.checkpointIntervalMs)} ms per partition`],
      [
        'raw kafkajs drain',
        `${fmtInt(raw.perSecond)} events/s (${raw.seconds.toFixed(2)} s; CPU ${raw.cpuMicrosPerEvent.toFixed(1)} µs/event)` +
          (raws.length > 1 ? `, median of ${raws.length}: ${raws.map((r) => fmtInt(r.perSecond)).join(' / ')}` : ''),
      ],
      [
        'worker end to end',
        `${fmtInt(work.perSecond)} events/s (${work.seconds.toFixed(2)} s; ${bulkAnomalies} anomalies committed)`,
      ],
      ['worker / raw', (work.perSecond / raw.perSecond).toFixed(2)],
      ['worker CPU', `${work.cpuMicrosPerEvent.toFixed(1)} µs/event (process CPU ${work.cores.toFixed(2)} cores busy)`],
      [
        'produce -> subscriber',
        `p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms (${latency.arrived}/${latency.sent} arrived)`,
      ],
    ];
    const width = Math.max(...table.map(([k]) => k.length));
    console.log(`\nVigil pipeline benchmark (${RUN_ID})`);
    for (const [key, value] of table) console.log(`  ${key.padEnd(width)}  ${value}`);
    console.log('');
    await cleanup(config);
    progress(`done${KEEP ? ` (database kept: ${DATABASE_URL})` : ''}`);
  } catch (error) {
    if (aborted) return new Promise<never>(() => undefined); // the watchdog cleans up and exits
    clearTimeout(watchdog);
    console.error(`\nbenchmark failed in phase "${phase}": ${(error as Error).stack ?? error}`);
    await cleanup(config);
    process.exit(1);
  }
}

await main();
process.exit(0);
