/** The long-running process of `vigil start`, `gateway` and `worker`; loaded only when one of them runs. */
import type { Config } from '../core/config.ts';
import { startGateway } from '../gateway/server.ts';
import { openRuntime } from '../app/runtime.ts';
import { Readiness } from '../core/readiness.ts';
import type { WorkerSide } from '../app/worker-side.ts';
import { whenSupervisorGone, WorkerSupervisor } from '../app/supervisor.ts';
import { createLogger } from '../telemetry/logger.ts';
import { serveMetrics } from '../telemetry/otel.ts';

type Stoppable = { stop(): Promise<void> };

/** What one process runs: the gateway, a worker in-process, or worker processes under a supervisor (workerProcesses, `vigil start --processes N`). */
export interface Roles {
  gateway: boolean;
  worker: boolean;
  workerProcesses?: number;
}

/** Runs until SIGTERM or SIGINT, then stops components in reverse order of start. */
export async function serveUntilSignal(config: Config, roles: Roles): Promise<void> {
  const { metricsPort } = config;
  const log = createLogger(config.logLevel);
  // Listen for signals first: a SIGTERM while migrating or connecting must still shut down cleanly.
  const stopRequested = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    // A child of `vigil worker --processes N` whose supervisor died stops as on SIGTERM.
    void whenSupervisorGone()?.then(resolve);
  });
  const runtime = await openRuntime(config, log);
  const readiness = new Readiness();
  // Known before the gateway answers its first /readyz: they start after it.
  const startup = roles.worker ? { workflows: readiness.part('workflows', 'workflows starting'), worker: readiness.part('worker', 'stream worker starting') } : undefined;
  const stoppables: Stoppable[] = [];
  const giveUp = async (error: unknown): Promise<never> => {
    for (const component of stoppables.reverse()) await component.stop().catch(() => undefined);
    await runtime.close();
    throw error;
  };
  let workerSide: WorkerSide | undefined;
  try {
    // The gateway first: /healthz and /readyz answer from the start, while the worker joins its group (docs/faults.md, "Restarts").
    if (roles.gateway) {
      const gateway = await startGateway(runtime.services, log.child({ component: 'gateway' }), config.port, readiness);
      stoppables.push({ stop: () => gateway.close() });
    }
    if (!roles.gateway && metricsPort !== undefined) {
      // No gateway here to serve GET /metrics: a worker serves it on a port of its own when asked to.
      const metrics = await serveMetrics(metricsPort);
      log.info({ port: metrics.port }, 'metrics at /metrics');
      stoppables.push({ stop: () => metrics.close() });
    }
    if (startup) {
      // Loaded only now: its modules (BullMQ, the detectors) would hold up the gateway's first answer.
      const { startWorkerSide } = await import('../app/worker-side.ts');
      workerSide = startWorkerSide(runtime.services, config, log, startup);
      stoppables.push(workerSide);
    }
    if (roles.workerProcesses !== undefined) {
      const supervisor = new WorkerSupervisor({ processes: roles.workerProcesses, metricsPort, log: log.child({ component: 'supervisor' }) });
      supervisor.start();
      stoppables.push({ stop: async () => void (await supervisor.stop()) });
    }
  } catch (error) {
    return giveUp(error);
  }
  // A part that cannot start still ends the process, as when it started in the foreground: its supervisor restarts it.
  const startFailed = new Promise<never>((_, reject) => void workerSide?.started.catch(reject));
  const signal = await Promise.race([stopRequested, startFailed]).catch(giveUp);
  log.info({ signal }, 'shutting down');
  const forceExit = setTimeout(() => {
    log.error('shutdown took longer than 15 s; exiting');
    process.exit(1);
  }, 15_000);
  forceExit.unref();
  for (const component of stoppables.reverse()) await component.stop().catch((error) => log.error({ err: error }, 'stop failed'));
  await runtime.close();
  // Client libraries can leave timers behind; they must not keep a stopped service alive.
  setTimeout(() => process.exit(), 1000).unref();
}

