import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Services } from '../resolvers/services.ts';
import { streamNameFilter } from '../stream/catalog.ts';
import { createRunbookQueue } from './queue.ts';
import { OutboxRelay } from './relay.ts';
import { RunbookRunner } from './runner.ts';
import { consumesSelfStream, ensureSelfStream } from './self-monitor.ts';

export interface Workflows {
  /** Hand new executions to BullMQ now rather than at the relay's next pass. */
  relayNow(): void;
  stop(): Promise<void>;
}

/** The runbook side of a worker process: the outbox relay, the step runner and the incident sweep. */
export async function startWorkflows(services: Services, config: Config, log: Logger): Promise<Workflows> {
  const queue = createRunbookQueue(config.redisUrl, config.queuePrefix);
  const relay = new OutboxRelay(services.ports.db, queue, log.child({ component: 'outbox-relay' }), streamNameFilter(config.workerStreams));
  const runner = new RunbookRunner(services, config, queue, log.child({ component: 'runbook-runner' }));
  // Before the runner (which schedules the sampler) and before the stream worker loads its catalog.
  if (config.selfMonitorMs > 0 && consumesSelfStream(config.workerStreams)) {
    await ensureSelfStream(services, config, log.child({ component: 'self-monitor' })).catch((error: Error) =>
      log.warn({ error: error.message }, 'self-monitoring stream not registered; the sampler skips until it is'),
    );
  }
  await runner.start();
  relay.start();
  return {
    relayNow: () => relay.poke(),
    stop: async () => {
      await relay.stop();
      await runner.stop();
      await queue.close();
    },
  };
}
