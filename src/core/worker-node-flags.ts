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
 * No allocation-site pretenuring: V8 starts allocating an allocation site's
 * objects straight in the old generation once most of them survive a
 * scavenge. A worker's per-event objects survive one only because their
 * batch is still being committed, then die; pretenured, they filled the old
 * generation (bench:pipeline's worker promoted 96 MB over 600k events with
 * it, 49 MB without) and cost mark-compacts. Without it, in alternated runs
 * of bench:pipeline and bench:cost, a worker used 1-14% less CPU per event,
 * at events per second within 1% or higher.
 *
 * Single-threaded GC, only when the supervisor itself runs with
 * `--single-threaded-gc`: V8 otherwise collects with helper threads, which
 * compete for the cores a worker shares with other workers, Kafka and
 * PostgreSQL. Measured on 2 cores (docs/benchmarks.md): without them a
 * worker used less CPU per event in most runs but processed fewer events
 * per second in most. Mixed, so not the default.
 */
export const WORKER_SEMI_SPACE_MB = 64;

const SEMI_SPACE = '--max-semi-space-size';
const SINGLE_THREADED_GC = '--single-threaded-gc';
const PRETENURING = 'allocation-site-pretenuring';
const NO_PRETENURING = `--no-${PRETENURING}`;

/**
 * Node flags for a worker process. The semi-space: the parent's own flag if
 * it has one, none if NODE_OPTIONS sets it (the children inherit that), else
 * the size above. No pretenuring unless the parent says otherwise
 * (`--allocation-site-pretenuring`). Single-threaded GC if the parent runs
 * with it (`node --single-threaded-gc bin/vigil.mjs worker --processes N`).
 * NODE_OPTIONS cannot carry either V8 flag.
 */
export function workerNodeFlags(env: NodeJS.ProcessEnv = process.env, parentFlags: readonly string[] = process.execArgv): string[] {
  const parentSemiSpace = parentFlags.find((flag) => flag.startsWith(`${SEMI_SPACE}=`));
  const semiSpace = parentSemiSpace ?? ((env.NODE_OPTIONS ?? '').includes(SEMI_SPACE) ? undefined : `${SEMI_SPACE}=${WORKER_SEMI_SPACE_MB}`);
  const pretenuring = parentFlags.find((flag) => flag.endsWith(PRETENURING)) ?? NO_PRETENURING;
  return [...(semiSpace ? [semiSpace] : []), pretenuring, ...(parentFlags.includes(SINGLE_THREADED_GC) ? [SINGLE_THREADED_GC] : [])];
}
