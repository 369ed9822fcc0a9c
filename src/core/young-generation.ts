/**
 * The size of V8's young generation for a process that runs a stream worker.
 *
 * A worker allocates a few kilobytes per event (kafkajs' records, the parsed
 * JSON, verdicts), nearly all of it dead by the end of its batch, while up
 * to three batches are in flight. With Node's default semi-space (16 MB) a
 * scavenge ran every few thousand events and copied the batches still in
 * flight each time; garbage collection was over a quarter of a worker's main
 * thread (bench:cost's profile). At 64 MB, scavenges are four times rarer and
 * copy the same live batches: in alternated runs of bench:cost a worker used
 * 15-25% less CPU per event (docs/benchmarks.md). The price is up to 128 MB
 * more resident memory per worker process at full speed.
 */
export const WORKER_SEMI_SPACE_MB = 64;

/** Node flags for a worker process: the semi-space above, unless the operator set one (NODE_OPTIONS or the parent's flags). */
export function workerNodeFlags(env: NodeJS.ProcessEnv = process.env, parentFlags: readonly string[] = process.execArgv): string[] {
  const chosen = [env.NODE_OPTIONS ?? '', ...parentFlags].some((flag) => flag.includes('--max-semi-space-size'));
  return chosen ? [] : [`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`];
}
