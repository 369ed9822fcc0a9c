/**
 * The Node flags of a process that runs a stream worker.
 *
 * Young generation: a worker allocates a few kilobytes per event (kafkajs'
 * records, the parsed JSON, verdicts), nearly all of it dead by the end of
 * its batch, while up to three batches are in flight. With Node's default
 * semi-space (16 MB) a scavenge ran every few thousand events and copied the
 * batches still in flight each time; garbage collection was over a quarter
 * of a worker's main thread (bench:cost's profile). At 64 MB, scavenges are
 * four times rarer and copy the same live batches: in alternated runs of
 * bench:cost a worker used 15-25% less CPU per event (docs/benchmarks.md).
 * The price is up to 128 MB more resident memory per worker process at full
 * speed.
 *
 * Single-threaded GC: V8 collects with helper threads by default, one per
 * core, in parallel with its main thread and each other. A worker shares its
 * cores with the other workers (the supervisor runs one per core), Kafka and
 * PostgreSQL; there the helpers cost more CPU than they save. In alternated
 * runs of bench:cost the threads other than the main one used 1.9-2.2 µs of
 * CPU per event with helpers and 0.3-0.5 without, the main thread up to
 * 0.5 µs more: 15-20% less CPU per event in all, at the same events per
 * second. The price is longer pauses of the main thread, which a worker
 * that commits batches does not notice.
 */
export const WORKER_SEMI_SPACE_MB = 64;

const SEMI_SPACE = '--max-semi-space-size';
const SINGLE_THREADED_GC = 'single-threaded-gc';

/**
 * Node flags for a worker process, each unless the operator chose otherwise
 * (NODE_OPTIONS or the parent's flags): the semi-space above, and
 * single-threaded GC (`node --no-single-threaded-gc bin/vigil.mjs worker ...`
 * keeps V8's helpers).
 */
export function workerNodeFlags(env: NodeJS.ProcessEnv = process.env, parentFlags: readonly string[] = process.execArgv): string[] {
  const chosen = (flag: string) => [env.NODE_OPTIONS ?? '', ...parentFlags].some((given) => given.includes(flag));
  return [...(chosen(SEMI_SPACE) ? [] : [`${SEMI_SPACE}=${WORKER_SEMI_SPACE_MB}`]), ...(chosen(SINGLE_THREADED_GC) ? [] : [`--${SINGLE_THREADED_GC}`])];
}
