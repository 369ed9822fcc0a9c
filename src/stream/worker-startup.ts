import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { StartupReport } from '../core/readiness.ts';
import { MemberRecords } from './dead-members.ts';
import { KafkajsConsumer } from './kafkajs-consumer.ts';
import type { WorkerPorts } from './ports.ts';
import type { EventConsumer } from './transport.ts';
import { StreamWorker } from './worker.ts';
import { DEFAULT_WORKER_OPTIONS, type Worker, type WorkerOptions } from './worker-options.ts';
import { withWorkerRedis } from './worker-redis.ts';

export type { Worker, WorkerOptions } from './worker-options.ts';

/**
 * The Kafka group a worker joins. Kafka assigns a group's partitions over the
 * union of its members' topics, whatever each subscribed to, so workers
 * limited to different streams (VIGIL_WORKER_STREAMS) must not share a group:
 * each set of patterns gets its own. Offsets of record stay under the
 * configured group in PostgreSQL, so health, replay and SLAs see one position.
 */
export function kafkaGroupOf(config: Pick<Config, 'consumerGroup' | 'workerStreams'>): string {
  if (!config.workerStreams?.length) return config.consumerGroup;
  return `${config.consumerGroup}.streams(${[...config.workerStreams].sort().join(',')})`;
}

/** The worker's consumer as configured: kafkajs, in the group of kafkaGroupOf. */
export function configuredConsumer(config: Config, log: Logger): EventConsumer {
  const groupId = kafkaGroupOf(config);
  return new KafkajsConsumer({
    brokers: config.kafkaBrokers,
    groupId,
    clientId: `vigil-worker-${process.pid}`,
    log: log.child({ component: 'kafka-consumer' }),
    maxBytesPerPartition: config.fetchMaxBytes,
    sessionTimeoutMs: config.sessionTimeoutMs,
    members: MemberRecords.forGroup(config.stateDir, groupId),
  });
}

/**
 * Tells readiness where a consumer is in its first start: joining the group
 * (which after a crash waits for the dead member's session to time out)
 * until the group hands it its partitions. Every later start (a new set of
 * topics, a rebalance) changes nothing: readiness is about starting.
 */
export function reportingConsumer(consumer: EventConsumer, startup: StartupReport): EventConsumer {
  return {
    async start(topics, handlers) {
      startup.pending(`consumer joining group (${plural(topics.length, 'topic')})`);
      await consumer.start(topics, {
        ...handlers,
        onAssignment: (assigned) => {
          handlers.onAssignment(assigned);
          startup.ready(`consuming ${plural(topics.length, 'topic')}, ${plural(assigned.length, 'partition')} assigned`);
        },
      });
    },
    seek: (topic, partition, offset) => consumer.seek(topic, partition, offset),
    pause: (partitions) => consumer.pause(partitions),
    resume: (partitions) => consumer.resume(partitions),
    stop: () => consumer.stop(),
  };
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/**
 * A worker whose Redis writes never hold a batch (withWorkerRedis), started:
 * its heartbeat written and the registry read. `startup` hears how its start
 * goes, for /readyz.
 */
export async function startWorker(
  ports: WorkerPorts,
  config: Config,
  log: Logger,
  options?: Partial<WorkerOptions>,
  startup?: StartupReport,
): Promise<Worker> {
  const redisSide = await withWorkerRedis(ports, config.redisUrl, log);
  let consumerStarted = false;
  const createConsumer = startup
    ? () => {
        consumerStarted = true;
        return reportingConsumer(configuredConsumer(config, log), startup);
      }
    : () => configuredConsumer(config, log);
  const configured = { ...DEFAULT_WORKER_OPTIONS, checkpointEvents: config.checkpointEvents, checkpointIntervalMs: config.checkpointIntervalMs };
  const worker = new StreamWorker(redisSide.ports, config, log, createConsumer, { ...configured, ...options });
  startup?.pending('loading the registry');
  await worker.start().catch(async (error: unknown) => {
    await redisSide.close();
    throw error;
  });
  if (!consumerStarted) startup?.ready('no ACTIVE stream to consume');
  return {
    id: worker.id,
    refreshed: () => worker.membership.refreshed(),
    listening: worker.listening,
    stop: () => worker.stop().finally(() => redisSide.close()),
  };
}
