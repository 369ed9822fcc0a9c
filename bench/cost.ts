/**
 * Cost per event: the worker end to end beside the parts it cannot avoid,
 * in one run on one seeded topic, for each detector kind in turn (issue 15).
 *
 *   npm run bench:cost
 *
 * Per kind: a detector of that kind alone on the stream; the parts timed on
 * the batches a raw drain received (cost-parts.ts; each three times, the
 * PostgreSQL write after a cold pass printed apart); the worker once untimed
 * (cold: V8 compiles its code as it first runs) and then timed
 * BENCH_WORKER_RUNS times as bench:pipeline times it, each under a consumer group and a detector of its
 * own; then the worker again under a CPU profile (a separate run, so the profiler's cost is
 * not in the timed figures), saved under .vigil/bench/ and summed up.
 * Needs PostgreSQL, Redis and Kafka (`npx vigil services`). Settings:
 *   BENCH_EVENTS (200000), BENCH_PARTITIONS (3), BENCH_HOSTS (300), BENCH_OUTLIER_EVERY (5000)
 *   BENCH_RAW_RUNS (3)      timed raw drains; the median CPU per event is the drain part (one set for all kinds)
 *   BENCH_KINDS (ZSCORE,LIKELIHOOD,ENSEMBLE), BENCH_PROFILE (1; 0 skips the profiled runs)
 *   BENCH_WARM (1): the worker runs once untimed first, and that cold run is printed apart (0: the timed run is the first)
 *   BENCH_WORKER_RUNS (3): timed worker runs per kind, each with a detector of its own; the median by CPU per event is the worker's figure
 *   BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/vigil_bench_cost), dropped unless BENCH_KEEP=1
 *   BENCH_TIMEOUT_S (900), BENCH_VERBOSE=1
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import pg from 'pg';
import { loadConfig, type Config } from '../src/core/config.ts';
import type { DetectorKind } from '../src/generated/prisma/enums.ts';
import { openRuntime, type Runtime } from '../src/app/runtime.ts';
import { workerPorts } from '../src/app/worker-side.ts';
import { Catalog } from '../src/stream/catalog.ts';
import { startWorker } from '../src/stream/worker-startup.ts';
import { measureParts, type Parts } from './cost-parts.ts';
import { formatSummary, profiled, type ProfileSummary } from './cost-profile.ts';
import { LATENCY_SCHEMA, LatencyEvents } from './events.ts';
import * as kit from './kit.ts';
import { mainThreadMicros } from './thread-cpu.ts';
import { type CapturedBatch, type Rate, fmtInt, intEnv, progress } from './kit.ts';

const EVENTS = intEnv('BENCH_EVENTS', 200_000);
const PARTITIONS = intEnv('BENCH_PARTITIONS', 3);
const HOSTS = intEnv('BENCH_HOSTS', 300);
const OUTLIER_EVERY = intEnv('BENCH_OUTLIER_EVERY', 5000);
const RAW_RUNS = intEnv('BENCH_RAW_RUNS', 3);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT_S', 900);
const PROFILE = process.env.BENCH_PROFILE !== '0';
const WARM = process.env.BENCH_WARM !== '0';
/** A worker run moves by 15-30 % on a shared machine: the median of three is steadier than one. */
const WORKER_RUNS = intEnv('BENCH_WORKER_RUNS', 3);
const KINDS = (process.env.BENCH_KINDS || 'ZSCORE,LIKELIHOOD,ENSEMBLE').split(',').map((k) => k.trim()) as DetectorKind[];
const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/vigil_bench_cost';
const KEEP = process.env.BENCH_KEEP === '1';
const VERBOSE = process.env.BENCH_VERBOSE === '1';

/** ZSCORE as bench:pipeline runs it; LIKELIHOOD with its defaults; ENSEMBLE of the two. */
const PARAMS: Partial<Record<DetectorKind, Record<string, unknown>>> = {
  ZSCORE: { window: 300, threshold: 6 },
  LIKELIHOOD: {},
  ENSEMBLE: { members: [{ kind: 'ZSCORE', params: { window: 300, threshold: 6 } }, { kind: 'LIKELIHOOD' }] },
};

const RUN_ID = `cost-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const STREAM = RUN_ID;
const SCRATCH = `${RUN_ID}-scratch`;

/** The worker's "partition restored" line (its first batch of a partition has arrived) starts its timed phase. */
let onPartitionRestored: (() => void) | undefined;
const log: Logger = pino({ name: 'vigil-bench', level: 'info', base: { pid: process.pid } }, {
  write(line: string) {
    if (onPartitionRestored && line.includes('"partition restored"')) onPartitionRestored();
    if (VERBOSE) return void process.stderr.write(line);
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level !== undefined && Number(level) >= 40) process.stderr.write(line);
  },
});

let runtime: Runtime | undefined;
let poller: pg.Client | undefined;
const stops: (() => Promise<void>)[] = [];

async function committed(group: string): Promise<number> {
  const { rows } = await poller!.query<{ n: string }>(
    'SELECT COALESCE(SUM("nextOffset"), 0)::text AS n FROM "ConsumerOffset" WHERE "groupId" = $1 AND "topic" = $2',
    [group, STREAM],
  );
  return Number(rows[0]?.n ?? 0);
}

interface WorkerRate extends Rate {
  /** Of cpuMicrosPerEvent, the main thread's part (undefined off Linux). */
  mainThreadMicrosPerEvent?: number;
}

/** The stream worker in this process under a group of its own, timed from its first batch until its committed offsets cover every event. */
async function workerRun(base: Config, group: string): Promise<WorkerRate> {
  const config = { ...base, consumerGroup: group };
  let first = 0;
  let cpuAtFirst = process.cpuUsage();
  let mainAtFirst = mainThreadMicros();
  const startTimer = (now: number) => {
    [first, cpuAtFirst, mainAtFirst] = [now, process.cpuUsage(), mainThreadMicros()];
  };
  onPartitionRestored = () => {
    if (first === 0) startTimer(performance.now());
  };
  const worker = await startWorker(workerPorts(runtime!.services), config, log.child({ component: 'worker' }));
  const stop = () => worker.stop();
  stops.push(stop);
  try {
    let lastCount = 0;
    let lastMoved = performance.now();
    for (;;) {
      const count = await committed(group);
      const now = performance.now();
      if (count > 0 && first === 0) startTimer(now);
      if (count >= EVENTS) {
        const main = mainThreadMicros();
        const mainThread = main === undefined || mainAtFirst === undefined ? {} : { mainThreadMicrosPerEvent: (main - mainAtFirst) / EVENTS };
        return { ...kit.rate(EVENTS, first, now, kit.cpuMicros(cpuAtFirst)), ...mainThread };
      }
      if (count !== lastCount) [lastCount, lastMoved] = [count, now];
      else if (now - lastMoved > 60_000) throw new Error(`the worker's committed offsets stalled at ${fmtInt(count)}/${fmtInt(EVENTS)} for 60 s`);
      await kit.sleep(20);
    }
  } finally {
    onPartitionRestored = undefined;
    stops.splice(stops.indexOf(stop), 1);
    await worker.stop();
  }
}

interface KindResult {
  kind: DetectorKind;
  parts: Parts;
  /** The median of `runs` by CPU per event. */
  worker: WorkerRate;
  runs: WorkerRate[];
  /** The first worker run, while V8 still compiles the worker's code (BENCH_WARM=1). */
  cold?: WorkerRate;
  profile?: ProfileSummary;
}

async function measureKind(config: Config, catalog: Catalog, streamId: string, scratchId: string, batches: CapturedBatch[], kind: DetectorKind): Promise<KindResult> {
  const { detectors, lifecycle } = runtime!.services;
  const input = { field: 'latency_ms', kind, params: PARAMS[kind] ?? {} };
  const name = `latency-${kind.toLowerCase()}`;
  let runs = 0;
  let detector = await detectors.register({ streamId, name, ...input }, 'bench');
  const scratchDetector = await detectors.register({ streamId: scratchId, name, ...input }, 'bench');
  /**
   * Each worker run gets a detector of its own: with the previous one its
   * anomalies would exist already and be skipped, and grouping them with them.
   */
  const freshDetector = async () => {
    await lifecycle.archive('Detector', detector.id);
    detector = await detectors.register({ streamId, name: `${name}-${++runs}`, ...input }, 'bench');
  };
  try {
    await catalog.reload();
    const spec = catalog.stream(STREAM);
    if (!spec) throw new Error(`stream ${STREAM} is not in the catalog`);
    const scratch = { streamId: scratchId, detectorId: scratchDetector.id, topic: SCRATCH, groupId: `${RUN_ID}-${kind}-scratch` };
    const parts = await measureParts(runtime!.services.ports.db, config, spec, batches, EVENTS, scratch);
    progress(`${kind}: parts measured (${parts.anomalies} anomalies by processBatch, ${parts.detectorAnomalies} by the detector alone, ${parts.transactions} transactions)`);
    let cold: WorkerRate | undefined;
    if (WARM) {
      // The worker's code is compiled by V8 as it first runs, on other threads: a long-running worker has paid that long ago.
      cold = await workerRun(config, `${RUN_ID}-${kind}-cold`);
      progress(`${kind}: first worker run (cold) ${fmtInt(cold.perSecond)} events/s, ${cold.cpuMicrosPerEvent.toFixed(2)} µs CPU/event`);
      await freshDetector();
    }
    const runs: WorkerRate[] = [];
    for (let run = 1; run <= WORKER_RUNS; run++) {
      if (run > 1) await freshDetector();
      const timed = await workerRun(config, `${RUN_ID}-${kind}-worker-${run}`);
      progress(`${kind}: worker run ${run} ${fmtInt(timed.perSecond)} events/s, ${timed.cpuMicrosPerEvent.toFixed(2)} µs CPU/event`);
      runs.push(timed);
    }
    const worker = kit.median(runs, 'cpuMicrosPerEvent') as WorkerRate;
    if (!PROFILE) return { kind, parts, worker, runs, cold };
    await freshDetector();
    const file = join(process.cwd(), '.vigil', 'bench', `${RUN_ID}-${kind.toLowerCase()}-worker.cpuprofile`);
    const { result, summary } = await profiled(file, () => workerRun(config, `${RUN_ID}-${kind}-profiled`));
    progress(`${kind}: profiled worker run ${fmtInt(result.perSecond)} events/s (profiler on: not the timed figure)`);
    const text = formatSummary(`${kind} worker CPU profile`, summary);
    console.log(text);
    await writeFile(file.replace(/\.cpuprofile$/, '.txt'), `${text}\n`);
    return { kind, parts, worker, runs, cold, profile: summary };
  } finally {
    await lifecycle.archive('Detector', detector.id);
    await lifecycle.archive('Detector', scratchDetector.id);
  }
}

function report(drain: Rate, drains: Rate[], results: KindResult[], config: Config): void {
  const us = (r: Rate) => r.cpuMicrosPerEvent;
  const cell = (r: Rate) => `${us(r).toFixed(2)} µs (${fmtInt(r.perSecond)}/s)`;
  const table: [string, string][] = [
    ['machine', kit.machine()],
    ['events', `${fmtInt(EVENTS)} over ${PARTITIONS} partitions, ${HOSTS} series; checkpoints every ${fmtInt(config.checkpointEvents)} events or ${fmtInt(config.checkpointIntervalMs)} ms`],
    ['raw drain', `${cell(drain)}, median of ${drains.map((d) => `${d.cpuMicrosPerEvent.toFixed(2)} µs`).join(' / ')}`],
  ];
  for (const { kind, parts, worker, runs, cold } of results) {
    const sum = us(drain) + us(parts.parse) + us(parts.validate) + us(parts.detector) + us(parts.write);
    table.push(
      [`${kind}`, `CPU per event (events/s of that part alone)`],
      ['  JSON.parse', cell(parts.parse)],
      ['  contract', cell(parts.validate)],
      ['  detector', cell(parts.detector)],
      ['  PostgreSQL write', `${cell(parts.write)}, ${parts.transactions} transactions, ${parts.anomalies} anomalies (first pass, cold: ${us(parts.writeCold).toFixed(2)} µs)`],
      ['  sum with drain', `${sum.toFixed(2)} µs`],
      ['  processBatch', `${cell(parts.core)} (the pure core: decode, contract, detector, effects; not in the sum)`],
      ['  worker', `${cell(worker)}${runs.length > 1 ? `, median of ${runs.map((r) => `${us(r).toFixed(2)} µs`).join(' / ')}` : ''}`],
      ...(worker.mainThreadMicrosPerEvent === undefined
        ? []
        : [['    main thread', `${worker.mainThreadMicrosPerEvent.toFixed(2)} µs; other threads (GC, compiler, libuv) ${(us(worker) - worker.mainThreadMicrosPerEvent).toFixed(2)} µs`] as [string, string]]),
      ['  worker / sum', `${(us(worker) / sum).toFixed(2)}x (target 1.3x ZSCORE, 1.5x LIKELIHOOD)`],
      ...(cold ? [['  first run (cold)', `${cell(cold)}, ${(us(cold) / sum).toFixed(2)}x the sum: V8 still compiling the worker's code`] as [string, string]] : []),
    );
  }
  kit.printTable(`Vigil cost per event (${RUN_ID}), µs of process CPU per event`, table);
}

async function cleanup(config: Config): Promise<void> {
  for (const stop of [...stops]) await kit.cleanupStep('worker', stop);
  await kit.cleanupStep('poller', async () => poller?.end());
  await kit.cleanupStep('topics', () => kit.deleteTopics(kit.kafkaClient(config.kafkaBrokers, RUN_ID), [STREAM, `${STREAM}.dlq`, SCRATCH, `${SCRATCH}.dlq`]));
  await kit.cleanupStep('runtime', async () => runtime?.close());
  if (!KEEP) await kit.cleanupStep('database', () => kit.dropDatabase(DATABASE_URL));
}

async function main(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    DATABASE_URL,
    VIGIL_ADMIN_KEY: `bench-admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
    VIGIL_WORKER_STREAMS: STREAM,
    VIGIL_CONSUMER_GROUP: `${RUN_ID}-worker`,
    LOG_LEVEL: 'info',
    PORT: '0',
  });
  const watchdog = setTimeout(() => {
    console.error(`\nABORTED: not finished within ${TIMEOUT_S} s; cleaning up`);
    setTimeout(() => process.exit(3), 30_000).unref();
    void cleanup(config).finally(() => process.exit(3));
  }, TIMEOUT_S * 1000);
  try {
    progress(`run ${RUN_ID}: ${fmtInt(EVENTS)} events, ${PARTITIONS} partitions, ${HOSTS} hosts, kinds ${KINDS.join(', ')}; database ${DATABASE_URL}`);
    runtime = await openRuntime(config, log);
    const { services } = runtime;
    const register = (name: string) =>
      services.streams.register(
        { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms', 'errors'], partitions: PARTITIONS },
        'bench',
      );
    const stream = await register(STREAM);
    const scratch = await register(SCRATCH);
    poller = new pg.Client({ connectionString: DATABASE_URL });
    await poller.connect();
    const kafka = kit.kafkaClient(config.kafkaBrokers, RUN_ID);
    await kit.produceSeeded(kafka, STREAM, new LatencyEvents(HOSTS, OUTLIER_EVERY), EVENTS);

    const drain = { brokers: config.kafkaBrokers, topic: STREAM, events: EVENTS, sessionTimeoutMs: config.sessionTimeoutMs, fetchMaxBytes: config.fetchMaxBytes };
    const drains: Rate[] = [];
    for (let run = 1; run <= RAW_RUNS; run++) drains.push(await kit.rawDrain(kafka, { ...drain, groupId: `${RUN_ID}-raw-${run}` }, `raw ${run}`));
    const batches: CapturedBatch[] = [];
    await kit.rawDrain(kafka, { ...drain, groupId: `${RUN_ID}-capture`, capture: batches }, 'capture (untimed)');

    const catalog = new Catalog(services.ports.db, services.contracts, [STREAM]);
    const results: KindResult[] = [];
    for (const kind of KINDS) results.push(await measureKind(config, catalog, stream.id, scratch.id, batches, kind));
    clearTimeout(watchdog);
    report(kit.median(drains, 'cpuMicrosPerEvent'), drains, results, config);
    await cleanup(config);
    progress(`done${KEEP ? ` (database kept: ${DATABASE_URL})` : ''}`);
  } catch (error) {
    clearTimeout(watchdog);
    console.error(`\nbenchmark failed: ${(error as Error).stack ?? error}`);
    await cleanup(config);
    process.exit(1);
  }
}

await main();
process.exit(0);
