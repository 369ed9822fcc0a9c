/**
 * Choosing a keyed message's partition: kafkajs' DefaultPartitioner (its
 * murmur2 over an emulated 64-bit Long) beside Vigil's (src/stream/murmur2.ts,
 * 32-bit Math.imul), in the same run, for a short series key, the longest key
 * Vigil accepts (VIGIL_MAX_KEY_LENGTH, 256) and the 100,000-character key of
 * the long-key fault scenario, which a dead letter's copy to `<topic>.dlq`
 * carries. Both are asked for fresh keys (no memo), as for a first sight.
 * Pure CPU, no services:
 *
 *   npm run bench:partitioner
 *
 * Settings: BENCH_PARTITIONER_MS (400) of calls per key length and partitioner, BENCH_PARTITIONER_RUNS (3), median reported.
 */
import { performance } from 'node:perf_hooks';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { javaPartition } from '../src/stream/murmur2.ts';
import { fmtInt, intEnv } from './kit.ts';

const BUDGET_MS = intEnv('BENCH_PARTITIONER_MS', 400);
const RUNS = intEnv('BENCH_PARTITIONER_RUNS', 3);
const PARTITIONS = 12;
const LENGTHS = [16, 256, 100_000];

const metadata: PartitionMetadata[] = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
const kafkajs = Partitioners.DefaultPartitioner();
const contenders: Record<string, (key: string) => number> = {
  'kafkajs DefaultPartitioner': (key) => kafkajs({ topic: 'bench', partitionMetadata: metadata, message: { key, value: null } }),
  'Vigil javaPartition': (key) => javaPartition(key, PARTITIONS),
};

/** Distinct keys of `length` characters, so neither side sees a key twice in a row. */
function keysOf(length: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${i.toString(36)}-`.padEnd(length, 'abcdefghij'));
}

/** Microseconds per call: calls for about BUDGET_MS, median of RUNS. */
function microsPerCall(choose: (key: string) => number, keys: string[]): number {
  const runs: number[] = [];
  let sink = 0;
  for (let run = 0; run < RUNS; run++) {
    let calls = 0;
    const start = performance.now();
    while (performance.now() - start < BUDGET_MS) sink += choose(keys[calls++ % keys.length]!);
    runs.push(((performance.now() - start) * 1000) / calls);
  }
  if (sink < 0) console.log(sink);
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
}

console.log(`Partition of a keyed message, ${PARTITIONS} partitions, median of ${RUNS} runs of ${BUDGET_MS} ms (Node ${process.version})\n`);
console.log('| key length | ' + Object.keys(contenders).join(' µs/call | ') + ' µs/call | ratio |');
console.log('|---|' + Object.keys(contenders).map(() => '---|').join('') + '---|');
for (const length of LENGTHS) {
  const keys = keysOf(length, length > 1000 ? 8 : 1000);
  for (const key of keys) {
    const [a, b] = Object.values(contenders).map((choose) => choose(key));
    if (a !== b) throw new Error(`the partitioners disagree on a key of ${length} characters: ${a} vs ${b}`);
  }
  const [baseline, vigil] = Object.values(contenders).map((choose) => microsPerCall(choose, keys));
  const fmt = (us: number) => (us >= 100 ? fmtInt(us) : us.toFixed(2));
  console.log(`| ${fmtInt(length)} | ${fmt(baseline!)} | ${fmt(vigil!)} | ${(baseline! / vigil!).toFixed(0)}x |`);
}
