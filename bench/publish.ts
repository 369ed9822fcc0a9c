/**
 * Publishing: the SDK's publishEvents through the real gateway (GraphQL over
 * HTTP, contract checked, produced by the service's kafkajs producer) beside
 * a raw kafkajs producer of the same events, in the same run (issue 15: at
 * least 0.5x).
 *
 *   npm run bench:publish
 *
 * Both send the same seeded events in batches of 1000, one batch at a time,
 * and both turn each event into JSON as part of their work. A third run,
 * raw with the two headers publishEvents puts on every event (traceparent,
 * schema version), shows how much of the gap is kafkajs encoding headers
 * rather than the gateway; it does not enter the ratio. Runs alternate (raw,
 * raw with headers, gateway, raw, ...) and the median of each is reported. The gateway
 * runs in this process, so its CPU per event counts the SDK client and the
 * server together. Needs PostgreSQL, Redis and Kafka. Settings:
 *   BENCH_EVENTS (100000) events per run, BENCH_PUBLISH_RUNS (3), BENCH_PUBLISH_BATCH (1000), BENCH_HOSTS (300)
 *   BENCH_PROFILE (1): one more gateway run under a CPU profile (not timed), saved under .vigil/bench/ and summed up
 *   BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/vigil_bench_publish), dropped unless BENCH_KEEP=1
 *   VIGIL_* settings apply to the gateway as in the service (e.g. VIGIL_RATE_POINTS_PER_SECOND).
 */
import { Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { createVigilClient, vigilErrors } from '../sdk/index.ts';
import { loadConfig, type Config } from '../src/core/config.ts';
import { openRuntime, type Runtime } from '../src/app/runtime.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { SCHEMA_VERSION_HEADER } from '../src/stream/transport.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSummary, profiled } from './cost-profile.ts';
import { LATENCY_SCHEMA, LatencyEvents } from './events.ts';
import * as kit from './kit.ts';
import { fmtInt, intEnv, progress, type Rate } from './kit.ts';

const EVENTS = intEnv('BENCH_EVENTS', 100_000);
const RUNS = intEnv('BENCH_PUBLISH_RUNS', 3);
const BATCH = intEnv('BENCH_PUBLISH_BATCH', 1000);
const HOSTS = intEnv('BENCH_HOSTS', 300);
const PARTITIONS = intEnv('BENCH_PARTITIONS', 3);
const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/vigil_bench_publish';
const KEEP = process.env.BENCH_KEEP === '1';
const RUN_ID = `publish-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const ADMIN_KEY = `bench-admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

const log = pino({ name: 'vigil-bench', level: process.env.BENCH_VERBOSE === '1' ? 'info' : 'warn' });

type Event = { host: string; latency_ms: number; at: string };

/** The seeded events as objects, in batches (made before anything is timed). */
function seededBatches(): Event[][] {
  const generator = new LatencyEvents(HOSTS, 5000);
  const batches: Event[][] = [];
  for (let made = 0; made < EVENTS; made += BATCH) {
    batches.push(generator.next(Math.min(BATCH, EVENTS - made)).map((m) => JSON.parse(m.value) as Event));
  }
  return batches;
}

let runtime: Runtime | undefined;
let gateway: Gateway | undefined;

async function cleanup(config: Config): Promise<void> {
  await kit.cleanupStep('gateway', async () => gateway?.close());
  await kit.cleanupStep('topics', () => kit.deleteTopics(kit.kafkaClient(config.kafkaBrokers, RUN_ID), [RUN_ID, `${RUN_ID}.dlq`]));
  await kit.cleanupStep('runtime', async () => runtime?.close());
  if (!KEEP) await kit.cleanupStep('database', () => kit.dropDatabase(DATABASE_URL));
}

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, DATABASE_URL, VIGIL_ADMIN_KEY: ADMIN_KEY, VIGIL_WORKER_STREAMS: RUN_ID, PORT: '0' });
  try {
    progress(`run ${RUN_ID}: ${RUNS} x ${fmtInt(EVENTS)} events each way, batches of ${BATCH}, ${PARTITIONS} partitions; database ${DATABASE_URL}`);
    runtime = await openRuntime(config, log);
    const stream = await runtime.services.streams.register(
      { name: RUN_ID, topic: RUN_ID, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms', 'errors'], partitions: PARTITIONS },
      'bench',
    );
    gateway = await startGateway(runtime.services, log, 0);
    const client = createVigilClient(`http://127.0.0.1:${gateway.port}/graphql`, ADMIN_KEY);
    const producer = kit.kafkaClient(config.kafkaBrokers, RUN_ID).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    const batches = seededBatches();

    const rawSending = (headers?: Record<string, string>) => () =>
      kit.timed(EVENTS, async () => {
        for (const batch of batches) {
          await producer.send({ topic: RUN_ID, messages: batch.map((event) => ({ key: event.host, value: JSON.stringify(event), headers })) });
        }
      });
    const raw = rawSending();
    // As the service sends them: a traceparent per call and the schema version the events were checked against.
    const rawWithHeaders = rawSending({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', [SCHEMA_VERSION_HEADER]: '1' });
    const viaGateway = () =>
      kit.timed(EVENTS, async () => {
        for (const events of batches) {
          let result;
          try {
            result = await client.publishEvents({ streamId: stream.id, events });
          } catch (error) {
            const codes = vigilErrors(error).map((e) => `${e.code}: ${e.message}`);
            throw new Error(`publishEvents failed: ${codes.length > 0 ? codes.join('; ') : (error as Error).message}`);
          }
          const { accepted, rejected } = result.publishEvents;
          if (accepted !== events.length) throw new Error(`publishEvents accepted ${accepted}/${events.length}: ${JSON.stringify(rejected.slice(0, 3))}`);
        }
      });

    // A first small round of each, untimed: connections, metadata and JIT, for both.
    await producer.send({ topic: RUN_ID, messages: batches[0]!.map((event) => ({ key: event.host, value: JSON.stringify(event) })) });
    await client.publishEvents({ streamId: stream.id, events: batches[0]! });

    const raws: Rate[] = [];
    const rawsWithHeaders: Rate[] = [];
    const gateways: Rate[] = [];
    const line = (r: Rate) => `${fmtInt(r.perSecond)} events/s (${r.seconds.toFixed(2)} s, ${r.cpuMicrosPerEvent.toFixed(2)} µs CPU/event)`;
    for (let run = 1; run <= RUNS; run++) {
      raws.push(await raw());
      progress(`raw ${run}: ${line(raws.at(-1)!)}`);
      rawsWithHeaders.push(await rawWithHeaders());
      progress(`raw with headers ${run}: ${line(rawsWithHeaders.at(-1)!)}`);
      gateways.push(await viaGateway());
      progress(`gateway ${run}: ${line(gateways.at(-1)!)}`);
    }
    if (process.env.BENCH_PROFILE !== '0') {
      const file = join(process.cwd(), '.vigil', 'bench', `${RUN_ID}-gateway.cpuprofile`);
      const { summary } = await profiled(file, viaGateway);
      const text = formatSummary('publishEvents via gateway CPU profile (SDK client and server in one process)', summary);
      console.log(text);
      await writeFile(file.replace(/\.cpuprofile$/, '.txt'), `${text}\n`);
    }
    await producer.disconnect();
    const rawMedian = kit.median(raws);
    const gatewayMedian = kit.median(gateways);
    const all = (rates: Rate[]) => rates.map((r) => fmtInt(r.perSecond)).join(' / ');
    kit.printTable(`Vigil publish benchmark (${RUN_ID})`, [
      ['machine', kit.machine()],
      ['events', `${fmtInt(EVENTS)} per run in batches of ${BATCH}, one batch at a time, ${PARTITIONS} partitions, ${HOSTS} keys`],
      ['raw kafkajs producer', `${line(rawMedian)}; median of ${all(raws)}`],
      ['raw, with publishEvents\' headers', `${line(kit.median(rawsWithHeaders))}; median of ${all(rawsWithHeaders)}`],
      ['SDK publishEvents via gateway', `${line(gatewayMedian)}; median of ${all(gateways)}`],
      ['gateway / raw', `${(gatewayMedian.perSecond / rawMedian.perSecond).toFixed(2)}x events/s (issue 15 target: at least 0.5x)`],
    ]);
    await cleanup(config);
    progress('done');
  } catch (error) {
    console.error(`\nbenchmark failed: ${(error as Error).stack ?? error}`);
    await cleanup(config);
    process.exit(1);
  }
}

await main();
process.exit(0);
