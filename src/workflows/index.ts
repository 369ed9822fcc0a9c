import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { Services } from '../services/container.ts';
import { streamNameFilter } from '../stream/catalog.ts';
import { PeriodicTask } from './periodic.ts';
import { createWorkflowQueue } from './queue.ts';
import { reconcileRunbooks } from './reconciler.ts';
import { reconcileVerifications } from './verify-reconciler.ts';
import { OutboxRelay } from './relay.ts';
import { WorkflowRunner } from './runner.ts';
import { restoreMissingSchedules } from './schedule-keeper.ts';
import { watchRecurringJobs } from './schedule-watch.ts';
import { consumesSelfStream, ensureSelfStream } from './self-monitor.ts';

export interface Workflows {
  /** Hand new executions to BullMQ now rather than at the relay's next pass. */
  relayNow(): void;
  stop(): Promise<void>;
}

/**
 * The runbook side of a worker process: the outbox relay, the step runner
 * and its recurring jobs, and what puts them back when Redis lost them (the
 * reconciler, the schedule keeper) or raises an incident when it cannot (the
 * schedule watch).
 */
export async function startWorkflows(services: Services, config: Config, log: Logger): Promise<Workflows> {
  const { queue, connection } = createWorkflowQueue(config.redisUrl, config.queuePrefix);
  queue.on('error', (error: Error) => log.warn({ error: error.message }, 'runbook queue error'));
  const acceptsStream = streamNameFilter(config.workerStreams);
  const relay = new OutboxRelay(services.ports.db, queue, log.child({ component: 'outbox-relay' }), acceptsStream);
  const runner = new WorkflowRunner(services, config, queue, log.child({ component: 'workflow-runner' }));
  // Before the runner (which schedules the sampler) and before the stream worker loads its catalog.
  if (config.selfMonitorMs > 0 && consumesSelfStream(config.workerStreams)) {
    await ensureSelfStream(services, config, log.child({ component: 'self-monitor' })).catch((error: Error) =>
      log.warn({ error: error.message }, 'self-monitoring stream not registered; the sampler skips until it is'),
    );
  }
  const reconcilerLog = log.child({ component: 'runbook-reconciler' });
  const runbookJobs = reconcileRunbooks(services, queue, config, reconcilerLog, acceptsStream);
  const verifications = reconcileVerifications(services, queue, reconcilerLog, acceptsStream);
  const reconcile = async () => {
    await runbookJobs();
    await verifications();
  };
  const reconciler = new PeriodicTask('runbook reconciler', reconcile, config.reconcileMs, reconcilerLog);
  const keeperLog = log.child({ component: 'schedule-keeper' });
  const restoreSchedules = async () => {
    await restoreMissingSchedules(queue, config, keeperLog);
  };
  const keeper = new PeriodicTask('schedule keeper', restoreSchedules, config.scheduleCheckMs, keeperLog);
  const watchLog = log.child({ component: 'schedule-watch' });
  const watch = config.selfMonitorMs > 0 ? new PeriodicTask('schedule watch', watchRecurringJobs(services, config, watchLog), config.scheduleCheckMs, watchLog) : undefined;

  await runner.start();
  relay.start();
  reconciler.start();
  keeper.start({ now: false });
  watch?.start({ now: false });
  // Redis answering again may be a Redis that lost everything: look at once rather than at the next tick.
  const redisBack = () => {
    keeper.poke();
    reconciler.poke();
  };
  connection.on('ready', redisBack);
  return {
    relayNow: () => relay.poke(),
    stop: async () => {
      connection.off('ready', redisBack);
      await Promise.all([watch?.stop(), keeper.stop(), reconciler.stop()]);
      await relay.stop();
      await runner.stop();
      await queue.close();
      // BullMQ leaves a connection it was given open: it would go on reconnecting after a stop.
      connection.disconnect();
    },
  };
}
