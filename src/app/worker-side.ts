import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { StartupReport } from '../core/readiness.ts';
import type { Services } from '../services/container.ts';
import type { WorkerPorts } from '../stream/ports.ts';
import { startWorker, type Worker } from '../stream/worker-startup.ts';
import { startWorkflows, type Workflows } from '../workflows/index.ts';

/** The stream worker's ports, from the process's services (the worker sits below the service layer and names what it needs). */
export function workerPorts(services: Services): WorkerPorts {
  const { ports, pubsub, contracts, stats, registry } = services;
  return { db: ports.db, redis: ports.redis, kafka: ports.kafka, pubsub, contracts, stats, registry };
}

export interface WorkerSide {
  /** Settles when both have started; rejects when either fails to. */
  started: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The stream worker and the workflows of a process, started side by side in
 * the background while the gateway already answers /healthz and /readyz
 * (which reports each as it goes). Neither waits for the other: the
 * workflows need Redis (BullMQ), detection does not; executions planned
 * before the workflows are up wait in the outbox, which their relay reads first.
 */
export function startWorkerSide(
  services: Services,
  config: Config,
  log: Logger,
  startup: { worker: StartupReport; workflows: StartupReport },
): WorkerSide {
  const begun = performance.now();
  const { worker: workerStartup, workflows: workflowsStartup } = startup;
  let workflows: Workflows | undefined;
  let worker: Worker | undefined;
  const startingWorkflows = startWorkflows(services, config, log.child({ component: 'workflows' })).then((started) => {
    workflows = started;
    workflowsStartup.ready('outbox relay and runbook runner running');
  });
  const startingWorker = startWorker(
    workerPorts(services),
    config,
    log.child({ component: 'worker' }),
    { onExecutionsPlanned: () => workflows?.relayNow() },
    workerStartup,
  ).then((started) => {
    worker = started;
  });
  const started = Promise.all([startingWorkflows, startingWorker]).then(() => {
    log.info({ ms: Math.round(performance.now() - begun) }, 'worker and workflows started');
  });
  return {
    started,
    stop: async () => {
      // A part still starting is waited for, so that it is stopped rather than left running.
      await Promise.allSettled([startingWorkflows, startingWorker]);
      await worker?.stop();
      await workflows?.stop();
    },
  };
}
