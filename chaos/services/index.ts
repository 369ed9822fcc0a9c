/**
 * The fault suite's own PostgreSQL, Redis and Kafka, started once per run in
 * a temp dir on ports of their own and stopped at the end, also on failure
 * or Ctrl-C. The shared services (5432, 6379, 9092) are never touched.
 *
 * A run killed with SIGKILL cannot clean up, so every pid it starts is
 * recorded (with its start time, against pid reuse) in .vigil/chaos/running.json;
 * the next run stops those leftovers before it starts anything.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { startKafka, type KafkaBroker } from './kafka.ts';
import { startPostgres, type PostgresCluster } from './postgres.ts';
import { isAlive, portNear, signal, waitForExit, type Log } from './proc.ts';
import { startRedis, type RedisServer } from './redis.ts';

export interface ChaosServices {
  root: string;
  postgres: PostgresCluster;
  redis: RedisServer;
  kafka: KafkaBroker;
  /** Starts again whatever a failed scenario left down (Kafka, Redis); PostgreSQL must be up. */
  ensureRunning(): Promise<void>;
  /** Records the current pids (call after any restart). */
  track(extra?: number[]): void;
  stop(): Promise<void>;
}

const STATE_DIR = path.join(PROJECT_ROOT, '.vigil', 'chaos');
const RUNNING = path.join(STATE_DIR, 'running.json');

interface Tracked {
  root: string;
  pids: { pid: number; startTime: string }[];
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Stops what an earlier, killed run left behind: only pids it recorded, still with the same start time. */
export async function stopLeftovers(log: Log): Promise<void> {
  if (!existsSync(RUNNING)) return;
  const tracked = JSON.parse(readFileSync(RUNNING, 'utf8')) as Tracked;
  for (const { pid, startTime } of tracked.pids) {
    if (!isAlive(pid) || startTimeOf(pid) !== startTime) continue;
    log(`stopping pid ${pid} left by an earlier chaos run`);
    signal(pid, 'SIGKILL');
    await waitForExit(pid, 10_000);
  }
  if (tracked.root.includes('vigil-chaos-')) rmSync(tracked.root, { recursive: true, force: true });
  rmSync(RUNNING, { force: true });
}

export async function startServices(root: string, log: Log): Promise<ChaosServices> {
  mkdirSync(STATE_DIR, { recursive: true });
  let postgres: PostgresCluster | undefined;
  let redis: RedisServer | undefined;
  let kafka: KafkaBroker | undefined;
  const extraPids = new Set<number>();
  const track = (extra: number[] = []) => {
    for (const pid of extra) extraPids.add(pid);
    const pids = [postgres?.pid(), redis?.pid(), kafka?.pid(), ...extraPids]
      .filter((pid): pid is number => pid !== undefined && isAlive(pid))
      .map((pid) => ({ pid, startTime: startTimeOf(pid) ?? '' }));
    writeFileSync(RUNNING, JSON.stringify({ root, pids } satisfies Tracked));
  };
  const stop = async () => {
    await kafka?.stop().catch((error) => log(`kafka stop: ${(error as Error).message}`));
    await redis?.stop().catch((error) => log(`redis stop: ${(error as Error).message}`));
    await postgres?.stop().catch((error) => log(`postgres stop: ${(error as Error).message}`));
    rmSync(RUNNING, { force: true });
  };
  try {
    track();
    postgres = await startPostgres(root, await portNear(55432), log);
    track();
    redis = await startRedis(root, await portNear(56379), log);
    track();
    kafka = await startKafka(root, { broker: await portNear(59092), controller: await portNear(59093) }, log);
    track();
  } catch (error) {
    await stop();
    throw error;
  }
  const ensureRunning = async () => {
    if (kafka!.pid() === undefined) await kafka!.start();
    if (redis!.pid() === undefined) await redis!.start();
    if (postgres!.pid() === undefined) throw new Error('the chaos PostgreSQL is not running');
    track();
  };
  return { root, postgres, redis, kafka, track, stop, ensureRunning };
}
