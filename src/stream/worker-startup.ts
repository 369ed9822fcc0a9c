import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { StartupReport } from '../core/readiness.ts';
import { KafkajsConsumer } from './kafkajs-consumer.ts';
import type { EventConsumer } from './transport.ts';

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
  return new KafkajsConsumer({
    brokers: config.kafkaBrokers,
    groupId: kafkaGroupOf(config),
    clientId: `vigil-worker-${process.pid}`,
    log: log.child({ component: 'kafka-consumer' }),
    maxBytesPerPartition: config.fetchMaxBytes,
    sessionTimeoutMs: config.sessionTimeoutMs,
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
