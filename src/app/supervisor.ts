/**
 * `vigil worker --processes N`: N worker processes in one consumer group,
 * each an ordinary `vigil worker --processes 1`, kept running by a
 * supervisor that restarts a child that died and stops them all on SIGTERM
 * or SIGINT.
 *
 * Children are spawned (process.execPath bin/vigil.mjs worker) rather than
 * forked by node:cluster: a child is then exactly the process an operator
 * would start by hand (same entry, same tsx loader, same configuration), and
 * nothing is shared behind its back. node:cluster would share listening
 * sockets, so the children's GET /metrics would be one port answered by
 * whichever child the kernel picks; here each child serves its own port
 * (VIGIL_METRICS_PORT + its slot). Work is split by Kafka's consumer group,
 * not by the supervisor: it forwards nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { PROJECT_ROOT } from '../core/paths.ts';
import { workerNodeFlags } from '../core/worker-node-flags.ts';

/** Set in a child's environment to its slot (0..N-1): it marks the process as a supervised child. */
export const WORKER_CHILD_ENV = 'VIGIL_WORKER_CHILD';

export interface RestartPolicy {
  /** The delay before the first restart, and after a child that had run for `stableAfterMs`. */
  firstDelayMs: number;
  /** The longest delay: a child that keeps dying is retried this often. */
  maxDelayMs: number;
  /** A child that ran this long was healthy: its next death starts the backoff over. */
  stableAfterMs: number;
}

export const RESTART_POLICY: RestartPolicy = { firstDelayMs: 1_000, maxDelayMs: 30_000, stableAfterMs: 60_000 };

export type RestartDecision = { restart: false } | { restart: true; delayMs: number };

/**
 * What to do when a child exits: nothing while the supervisor is stopping
 * (the child was told to stop); otherwise restart it after a delay that
 * doubles while it keeps dying young (a database that is down is not
 * hammered by a crash loop) and starts over once it had stayed up.
 * Any other exit, a clean one included, restarts it: the supervisor's job
 * is N running workers, and a child ends only when the supervisor says so.
 */
export function afterChildExit(state: { stopping: boolean; uptimeMs: number; previousDelayMs: number | undefined }, policy: RestartPolicy = RESTART_POLICY): RestartDecision {
  if (state.stopping) return { restart: false };
  const { previousDelayMs, uptimeMs } = state;
  if (previousDelayMs === undefined || uptimeMs >= policy.stableAfterMs) return { restart: true, delayMs: policy.firstDelayMs };
  return { restart: true, delayMs: Math.min(previousDelayMs * 2, policy.maxDelayMs) };
}

export interface SupervisorOptions {
  processes: number;
  log: Logger;
  /** The environment of every child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Child i serves GET /metrics on metricsPort + i; undefined: none does. */
  metricsPort?: number | undefined;
  policy?: RestartPolicy;
  /** How long a child may take to stop before it is killed (a child gives itself 15 s). */
  stopTimeoutMs?: number;
}

interface Slot {
  index: number;
  child?: ChildProcess;
  exited?: Promise<void>;
  startedAt: number;
  previousDelayMs?: number;
  restartTimer?: NodeJS.Timeout;
}

/** Starts, watches and stops the worker processes of one `vigil worker --processes N`. */
export class WorkerSupervisor {
  private readonly slots: Slot[];
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {
    this.slots = Array.from({ length: options.processes }, (_, index) => ({ index, startedAt: 0 }));
  }

  start(): void {
    for (const slot of this.slots) this.spawnChild(slot);
  }

  /** The pids of the children running now. */
  pids(): number[] {
    return this.slots.flatMap((slot) => (slot.child?.pid !== undefined && slot.child.exitCode === null && slot.child.signalCode === null ? [slot.child.pid] : []));
  }

  /** Tells every child to stop (SIGTERM), waits for them, and kills one that is not out in time. Resolves with whether all stopped on their own. */
  async stop(): Promise<boolean> {
    this.stopping = true;
    const { log, stopTimeoutMs = 20_000 } = this.options;
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    const running = this.slots.filter((slot) => slot.child && slot.child.exitCode === null && slot.child.signalCode === null);
    for (const slot of running) slot.child!.kill('SIGTERM');
    let clean = true;
    await Promise.all(
      running.map(async (slot) => {
        const timer = setTimeout(() => {
          clean = false;
          log.error({ slot: slot.index, workerPid: slot.child!.pid }, `worker process did not stop within ${stopTimeoutMs} ms; killing it`);
          slot.child!.kill('SIGKILL');
        }, stopTimeoutMs);
        await slot.exited;
        clearTimeout(timer);
      }),
    );
    log.info({ processes: running.length }, 'worker processes stopped');
    return clean;
  }

  private spawnChild(slot: Slot): void {
    const { log, env = process.env, metricsPort } = this.options;
    const childEnv: NodeJS.ProcessEnv = { ...env, [WORKER_CHILD_ENV]: String(slot.index) };
    if (metricsPort === undefined) delete childEnv.VIGIL_METRICS_PORT;
    else childEnv.VIGIL_METRICS_PORT = String(metricsPort + slot.index);
    // stdout and stderr are the supervisor's: every child's log lines go where its own go. The IPC
    // channel carries no messages: a child sees it close when the supervisor is gone (whenSupervisorGone).
    const child = spawn(process.execPath, [...workerNodeFlags(env), join(PROJECT_ROOT, 'bin', 'vigil.mjs'), 'worker', '--processes', '1'], {
      env: childEnv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    slot.child = child;
    slot.startedAt = Date.now();
    slot.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.childExited(slot, child, code, signal);
        resolve();
      });
      // A child that could not be spawned at all emits 'error' and no 'exit'.
      child.once('error', (error) => {
        log.error({ slot: slot.index, err: error }, 'worker process could not be started');
        if (child.pid === undefined) {
          this.childExited(slot, child, null, null);
          resolve();
        }
      });
    });
    if (child.pid !== undefined) log.info({ slot: slot.index, workerPid: child.pid }, 'worker process started');
  }

  private childExited(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const { log, policy } = this.options;
    const uptimeMs = Date.now() - slot.startedAt;
    const decision = afterChildExit({ stopping: this.stopping, uptimeMs, previousDelayMs: slot.previousDelayMs }, policy);
    const exit = { slot: slot.index, workerPid: child.pid, code, signal, uptimeMs };
    if (!decision.restart) {
      log.info(exit, 'worker process exited');
      return;
    }
    log.error({ ...exit, restartInMs: decision.delayMs }, 'worker process died; restarting it');
    slot.previousDelayMs = decision.delayMs;
    // A stop that arrives during the delay cancels the restart (stop() clears the timer).
    slot.restartTimer = setTimeout(() => {
      if (!this.stopping) this.spawnChild(slot);
    }, decision.delayMs);
  }
}

/**
 * In a supervised child: resolves when the supervisor is gone (its IPC
 * channel closed), so that a child whose supervisor was killed stops rather
 * than running on unsupervised; undefined in any other process.
 */
export function whenSupervisorGone(): Promise<string> | undefined {
  if (process.env[WORKER_CHILD_ENV] === undefined || !process.connected) return undefined;
  // The channel must not by itself keep a stopped child alive.
  process.channel?.unref();
  return new Promise((resolve) => process.once('disconnect', () => resolve('supervisor gone')));
}

/** `vigil worker --processes N` (N > 1): the supervisor runs until SIGTERM or SIGINT, then stops its children. */
export async function superviseUntilSignal(options: SupervisorOptions): Promise<number> {
  const { log } = options;
  const stopRequested = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const supervisor = new WorkerSupervisor(options);
  log.info({ processes: options.processes }, 'starting worker processes');
  supervisor.start();
  const signal = await stopRequested;
  log.info({ signal }, 'shutting down worker processes');
  return (await supervisor.stop()) ? 0 : 1;
}
