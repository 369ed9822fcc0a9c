/**
 * Worker processes: events per second of `vigil worker --processes 2`
 * against `--processes 1` on one seeded topic (issue 15; goal 1.7x on 2 cores).
 *
 *   npm run bench:processes
 *
 * The service is started as an operator starts it: a child process
 * `node bin/vigil.mjs worker --processes K` (K = 1 runs the worker in that
 * process; K = 2 is the supervisor and its two children; the single process
 * gets the Node flags the supervisor gives its children, workerNodeFlags),
 * in a consumer group of its own per run, limited to the bench stream, with
 * canaries and self-monitoring off so that only the seeded events reach the
 * topic. Runs alternate 1, K, 1, K... A run is timed from its first committed
 * offset to the last event committed (polling "ConsumerOffset"), and apart
 * ("steady") from when Kafka says the group is Stable with every process
 * holding partitions (without a second process's join and rebalance); the
 * time to the first commit is "startup". CPU is user + system time of the
 * process tree (/proc/<pid>/stat) over the timed phase (a child that died in
 * it takes its CPU along), and beside it what the rest of the machine kept busy
 * (/proc/stat less that tree and the bench itself: the broker, PostgreSQL,
 * Redis). From the one-process runs the bench prints the ceiling of K
 * processes here: the machine's cores over the cores one process's events
 * took with the rest. Each run prints the group's members and their
 * partitions; with K processes the bench checks that K members hold
 * partitions and that the stream's health lists the K children and their partitions.
 * Needs PostgreSQL, Redis and Kafka (`npx vigil services`). Settings:
 *   BENCH_EVENTS (400000), BENCH_PARTITIONS (6), BENCH_HOSTS (300), BENCH_OUTLIER_EVERY (5000)
 *   BENCH_RUNS (2)          pairs of runs (1 process, then BENCH_PROCESSES)
 *   BENCH_PROCESSES (2)     the process count compared with 1
 *   BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/vigil_bench_processes), dropped unless BENCH_KEEP=1
 *   BENCH_TIMEOUT_S (1800), BENCH_VERBOSE=1 (the workers log at info instead of warn)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import pg from 'pg';
import { loadConfig, type Config } from '../src/core/config.ts';
import { workerNodeFlags } from '../src/core/worker-node-flags.ts';
import { openRuntime, type Runtime } from '../src/app/runtime.ts';
import { kafkaGroupOf } from '../src/stream/worker-startup.ts';
import { HealthService } from '../src/services/health.ts';
import { LATENCY_SCHEMA, LatencyEvents } from './events.ts';
import { machineCpu } from './machine-cpu.ts';
import { describeGroup, settled, settledMembers, type GroupOnTopic, type Member } from './consumer-group.ts';
import * as kit from './kit.ts';
import { type Rate, fmtInt, intEnv, progress } from './kit.ts';

const EVENTS = intEnv('BENCH_EVENTS', 400_000);
const PARTITIONS = intEnv('BENCH_PARTITIONS', 6);
const HOSTS = intEnv('BENCH_HOSTS', 300);
const OUTLIER_EVERY = intEnv('BENCH_OUTLIER_EVERY', 5000);
const RUNS = intEnv('BENCH_RUNS', 2);
const MANY = intEnv('BENCH_PROCESSES', 2, 2);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT_S', 1800);
const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/vigil_bench_processes';
const KEEP = process.env.BENCH_KEEP === '1';
const VERBOSE = process.env.BENCH_VERBOSE === '1';
const GOAL = 1.7;

const RUN_ID = `processes-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const STREAM = RUN_ID;
const VIGIL = join(import.meta.dirname, '..', 'bin', 'vigil.mjs');

const log = pino({ name: 'vigil-bench', level: VERBOSE ? 'info' : 'warn' });
let runtime: Runtime | undefined;
let poller: pg.Client | undefined;
let running: ChildProcess | undefined;

interface ProcessRun {
  processes: number;
  rate: Rate;
  /** Cores the rest of the machine kept busy meanwhile (the broker, PostgreSQL, Redis; the bench's own CPU left out), and stolen by the host. */
  others: { cores: number; steal: number };
  steady: Rate | undefined;
  startupSeconds: number;
}

async function committed(group: string): Promise<number> {
  const { rows } = await poller!.query<{ n: string }>(
    'SELECT COALESCE(SUM("nextOffset"), 0)::text AS n FROM "ConsumerOffset" WHERE "groupId" = $1 AND "topic" = $2',
    [group, STREAM],
  );
  return Number(rows[0]?.n ?? 0);
}

function startWorkers(processes: number, group: string): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL,
    VIGIL_CONSUMER_GROUP: group,
    VIGIL_WORKER_STREAMS: STREAM,
    VIGIL_CANARY_MS: '0',
    VIGIL_SELF_MONITOR_MS: '0',
    LOG_LEVEL: VERBOSE ? 'info' : 'warn',
  };
  delete env.VIGIL_METRICS_PORT;
  // The supervisor gives its children workerNodeFlags; the single process gets the same, so that the runs differ in the count only.
  const flags = processes === 1 ? workerNodeFlags(env, []) : [];
  const child = spawn(process.execPath, [...flags, VIGIL, 'worker', '--processes', String(processes)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  running = child;
  return child;
}

/** SIGTERM, then waits for the exit (SIGKILL after 40 s: a supervisor gives its children 20 s). */
async function stopWorkers(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    await exited;
    clearTimeout(timer);
  }
  if (running === child) running = undefined;
}

/** A run's consumer group as Kafka names it, on the bench topic. */
const groupOn = (group: string): GroupOnTopic => ({ kafkaGroup: kafkaGroupOf({ consumerGroup: group, workerStreams: [STREAM] }), topic: STREAM });

/** In a run of several processes: each child holds partitions, and the stream's health lists every child with the partitions Kafka gave it. */
async function checkMany(child: ChildProcess, processes: number, members: Member[], group: string): Promise<void> {
  const children = kit.processTree(child.pid!).filter((pid) => pid !== child.pid);
  const holding = members.filter((m) => m.partitions.length > 0);
  if (children.length !== processes || holding.length !== processes) {
    throw new Error(`expected ${processes} worker processes holding partitions, found ${children.length} children and ${holding.length} members with partitions`);
  }
  // Stream health as the gateway of this run's deployment (its consumer group) reports it.
  const { ports, stats } = runtime!.services;
  const health = new HealthService({ db: ports.db, redis: ports.redis, kafka: ports.kafka, consumerGroup: group, stats });
  const listed = await health.workersOf(STREAM);
  const pids = listed.map((w) => w.pid).sort();
  const partitions = listed.flatMap((w) => w.partitions).sort((a, b) => a - b);
  if (pids.join() !== [...children].sort().join() || partitions.join() !== Array.from({ length: PARTITIONS }, (_, i) => i).join()) {
    throw new Error(`stream health does not list the ${processes} worker processes: ${JSON.stringify(listed)}`);
  }
  progress(`stream health: ${listed.map((w) => `${w.id} holds ${w.partitions.join(',')}`).join('; ')}`);
}

/**
 * One run, timed from the first committed offset (`rate`) and, apart, from
 * the moment the group was Stable with every process holding partitions
 * (`steady`: the joining and rebalancing of a second process left out;
 * undefined when the run ended before).
 */
async function timedRun(config: Config, processes: number, index: number): Promise<ProcessRun> {
  const group = `${RUN_ID}-${index}-p${processes}`;
  const spawnedAt = performance.now();
  const child = startWorkers(processes, group);
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`vigil worker exited (${code ?? signal}) during the run`))));
  exited.catch(() => undefined); // Stopping the worker after the run rejects it too: no error then.
  const admin = kit.kafkaClient(config.kafkaBrokers, RUN_ID).admin();
  await admin.connect();
  try {
    let first = 0;
    let cpuAtFirst = 0;
    let machineAtFirst = machineCpu();
    let benchAtFirst = process.cpuUsage();
    let stable: { at: number; count: number; cpu: number } | undefined;
    let lastDescribed = 0;
    let lastCount = 0;
    let lastMoved = performance.now();
    for (;;) {
      const count = await Promise.race([committed(group), exited]);
      const now = performance.now();
      if (count > 0 && first === 0) [first, cpuAtFirst, machineAtFirst, benchAtFirst] = [now, kit.treeCpuMicros(child.pid!), machineCpu(), process.cpuUsage()];
      if (first !== 0 && !stable && count < EVENTS && now - lastDescribed > 500) {
        lastDescribed = now;
        if (settled(await describeGroup(admin, groupOn(group)), processes)) {
          stable = { at: performance.now(), count: await committed(group), cpu: kit.treeCpuMicros(child.pid!) };
        }
      }
      if (count >= EVENTS) {
        const cpuNow = kit.treeCpuMicros(child.pid!);
        const rate = kit.rate(EVENTS, first, now, cpuNow - cpuAtFirst);
        const machine = machineCpu();
        const otherMicros = machine.busy - machineAtFirst.busy - (cpuNow - cpuAtFirst) - kit.cpuMicros(benchAtFirst);
        const others = { cores: otherMicros / 1e6 / rate.seconds, steal: (machine.steal - machineAtFirst.steal) / 1e6 / rate.seconds };
        const steady = stable && kit.rate(EVENTS - stable.count, stable.at, now, cpuNow - stable.cpu);
        const members = await settledMembers(admin, groupOn(group), processes);
        const shown = members.map((m) => `${m.clientId}: ${m.partitions.join(',') || '-'}`).join('; ');
        progress(`${processes} process(es), run ${index}: ${fmtInt(rate.perSecond)} events/s (steady ${steady ? `${fmtInt(steady.perSecond)} over the last ${fmtInt(steady.events)}` : 'n/a'}), ${rate.cores.toFixed(2)} cores, the rest of the machine ${others.cores.toFixed(2)}; members ${shown}`);
        if (processes > 1) await checkMany(child, processes, members, group);
        return { processes, rate, others, steady, startupSeconds: (first - spawnedAt) / 1000 };
      }
      if (count !== lastCount) [lastCount, lastMoved] = [count, now];
      else if (now - lastMoved > 90_000) throw new Error(`committed offsets stalled at ${fmtInt(count)}/${fmtInt(EVENTS)} for 90 s`);
      await kit.sleep(20);
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
    await stopWorkers(child);
  }
}

function report(runs: ProcessRun[]): void {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: import.meta.dirname }).toString().trim();
  const of = (k: number) => runs.filter((r) => r.processes === k);
  const steadyOf = (k: number) => of(k).flatMap((r) => (r.steady ? [r.steady] : []));
  const medianRate = (rates: Rate[]) => (rates.length > 0 ? kit.median(rates).perSecond : NaN);
  const perSecond = (n: number) => (Number.isNaN(n) ? 'n/a' : `${fmtInt(n)} events/s`);
  const cell = (r: Rate | undefined) => (r ? `${fmtInt(r.perSecond)}/s (${r.cores.toFixed(2)} cores, ${r.cpuMicrosPerEvent.toFixed(1)} µs CPU/event)` : 'n/a');
  const others = (r: ProcessRun) => `the rest of the machine ${r.others.cores.toFixed(2)} cores${r.others.steal >= 0.01 ? `, ${r.others.steal.toFixed(2)} stolen by the host` : ''}`;
  const table: [string, string][] = [
    ['machine', kit.machine()],
    ['date', new Date().toISOString()],
    ['commit', commit],
    ['events', `${fmtInt(EVENTS)} over ${PARTITIONS} partitions, ${HOSTS} series, one ZSCORE detector`],
  ];
  const medians = { all: new Map<number, number>(), steady: new Map<number, number>() };
  for (const k of [1, MANY]) {
    medians.all.set(k, medianRate(of(k).map((r) => r.rate)));
    medians.steady.set(k, medianRate(steadyOf(k)));
    table.push(
      [`${k} process${k > 1 ? 'es' : ''}`, of(k).map((r) => `${cell(r.rate)}, startup ${r.startupSeconds.toFixed(1)} s`).join('; ')],
      ['  beside them', of(k).map(others).join('; ')],
      ['  steady', of(k).map((r) => cell(r.steady)).join('; ')],
      ['  median', `${perSecond(medians.all.get(k)!)}, steady ${perSecond(medians.steady.get(k)!)}`],
    );
  }
  for (const [label, map] of [['first commit on', medians.all], ['steady', medians.steady]] as const) {
    const ratio = map.get(MANY)! / map.get(1)!;
    table.push([`${MANY} vs 1, ${label}`, Number.isNaN(ratio) ? 'n/a' : `${ratio.toFixed(2)}x (goal ${GOAL}x for 2): ${ratio >= GOAL ? 'met' : 'not met'}`]);
  }
  table.push([`${MANY} vs 1, ceiling here`, ceiling(of(1))]);
  kit.printTable(`Vigil worker processes (${RUN_ID}): events/s from the first commit to all committed; steady: from the group Stable with every process holding partitions`, table);
}

/**
 * The most K processes can give over one on this machine if each event costs
 * what it cost in the one-process runs (the worker's CPU and the rest of the
 * machine's): the cores there are over the cores one process's events/s took.
 */
function ceiling(single: ProcessRun[]): string {
  const cores = os.availableParallelism();
  const each = single.map((r) => r.rate.cores + r.others.cores).sort((a, b) => a - b);
  const used = each[Math.floor((each.length - 1) / 2)]!;
  const bound = Math.min(MANY, cores / used);
  return `${bound.toFixed(2)}x: ${cores} cores over the ${used.toFixed(2)} one process kept busy with the broker and the database (median of its runs)`;
}

let cleaning: Promise<void> | undefined;
/** Once, whoever asks first: the end, a failure, the watchdog or a signal. */
const cleanup = (config: Config): Promise<void> =>
  (cleaning ??= (async () => {
    if (running) await kit.cleanupStep('workers', () => stopWorkers(running!));
    await kit.cleanupStep('poller', async () => poller?.end());
    await kit.cleanupStep('topics', () => kit.deleteTopics(kit.kafkaClient(config.kafkaBrokers, RUN_ID), [STREAM, `${STREAM}.dlq`]));
    await kit.cleanupStep('runtime', async () => runtime?.close());
    if (!KEEP) await kit.cleanupStep('database', () => kit.dropDatabase(DATABASE_URL));
  })());

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, DATABASE_URL, VIGIL_WORKER_STREAMS: STREAM, LOG_LEVEL: 'warn', PORT: '0' });
  const watchdog = setTimeout(() => {
    console.error(`\nABORTED: not finished within ${TIMEOUT_S} s; cleaning up`);
    setTimeout(() => process.exit(3), 60_000).unref();
    void cleanup(config).finally(() => process.exit(3));
  }, TIMEOUT_S * 1000);
  const stopOnSignal = () => void cleanup(config).finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    progress(`run ${RUN_ID}: ${fmtInt(EVENTS)} events, ${PARTITIONS} partitions, ${HOSTS} hosts, ${RUNS} pair(s) of runs (1 and ${MANY} processes); database ${DATABASE_URL}`);
    runtime = await openRuntime(config, log);
    const { services } = runtime;
    const stream = await services.streams.register(
      { name: STREAM, topic: STREAM, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms', 'errors'], partitions: PARTITIONS },
      'bench',
    );
    await services.detectors.register({ streamId: stream.id, name: 'latency-zscore', field: 'latency_ms', kind: 'ZSCORE', params: { window: 300, threshold: 6 } }, 'bench');
    poller = new pg.Client({ connectionString: DATABASE_URL });
    await poller.connect();
    await kit.produceSeeded(kit.kafkaClient(config.kafkaBrokers, RUN_ID), STREAM, new LatencyEvents(HOSTS, OUTLIER_EVERY), EVENTS);
    const runs: ProcessRun[] = [];
    for (let pair = 1; pair <= RUNS; pair++) {
      for (const processes of [1, MANY]) runs.push(await timedRun(config, processes, runs.length + 1));
    }
    clearTimeout(watchdog);
    report(runs);
    await cleanup(config);
    progress(`done${KEEP ? ` (database kept: ${DATABASE_URL})` : ''}`);
  } catch (error) {
    clearTimeout(watchdog);
    if (!cleaning) console.error(`\nbenchmark failed: ${(error as Error).stack ?? error}`); // else: stopped by a signal or the watchdog
    await cleanup(config);
    process.exit(1);
  }
}

await main();
process.exit(0);
