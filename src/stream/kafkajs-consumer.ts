import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { withTimeout } from '../core/with-timeout.ts';
import { recordConsumerCrash } from '../telemetry/metrics.ts';
import type { MemberRecords } from './dead-members.ts';
import { removeGroupMembers } from './kafka-leave-group.ts';
import type { ConsumerHandlers, EventConsumer, IncomingMessage, TopicPartition } from './transport.ts';

export interface KafkajsConsumerOptions {
  brokers: string[];
  groupId: string;
  clientId: string;
  log: Logger;
  /** Partitions processed at once by this member. */
  concurrency?: number;
  /** Bytes fetched per partition at most, which bounds a batch. */
  maxBytesPerPartition?: number;
  sessionTimeoutMs?: number;
  /** Where this host's members of the group are recorded: a consumer first removes those of dead processes (dead-members.ts). */
  members?: MemberRecords;
}

/** How long a start waits on removing dead members before it joins anyway (and waits out their sessions). */
const EVICTION_WAIT_MS = 5_000;

/** Consumers started in this process so far: each one's member record has a name of its own. */
let consumersStarted = 0;

/**
 * Backoff of every kafkajs request and of the consumer's restart after a
 * crash. kafkajs' defaults (300 ms doubling to 30 s, 5 retries) made a
 * consumer that crashed while the broker was away wait the last step, about
 * 10 s, before trying again, so consumption resumed that late after the
 * broker was back. Capped at 1 s, the restart follows the broker within a
 * second; retrying a local broker that often costs nothing.
 */
export const KAFKA_RETRY = { initialRetryTime: 100, maxRetryTime: 1_000, retries: 10 } as const;

/** EventConsumer over kafkajs: eachBatch, offsets committed to Kafka only for lag monitoring. */
export class KafkajsConsumer implements EventConsumer {
  private consumer: Consumer | undefined;
  private readonly kafka: Kafka;
  private recordName: string | undefined;

  constructor(private readonly options: KafkajsConsumerOptions) {
    const { log } = options;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      retry: KAFKA_RETRY,
      logCreator: () => ({ namespace, level, log: entry }) => {
        const { message, ...rest } = entry;
        if (level <= logLevel.ERROR) log.error({ namespace, ...rest }, message);
        else log.warn({ namespace, ...rest }, message);
      },
    });
  }

  async start(topics: string[], handlers: ConsumerHandlers): Promise<void> {
    await this.removeDeadMembers();
    const recordName = `${process.pid}-${++consumersStarted}`;
    this.recordName = recordName;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1_000,
      // Restarts after a crash when the error is retriable (kafkajs' restartOnFailure default), KAFKA_RETRY apart.
      retry: KAFKA_RETRY,
      // Small fetches keep a batch's transaction short and memory bounded.
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 256 * 1024,
      maxWaitTimeInMs: 200,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assigned = Object.entries(event.payload.memberAssignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition })),
      );
      handlers.onAssignment(assigned);
      this.options.members?.remember(recordName, event.payload.memberId).catch((error: unknown) => this.options.log.warn({ err: error }, 'group member not recorded'));
    });
    // A crash stops consumption: kafkajs restarts the consumer after a retriable one, nothing does after the others.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      recordConsumerCrash(payload.groupId, payload.restart);
      const message = payload.restart ? 'kafka consumer crashed; kafkajs restarts it' : 'kafka consumer crashed and does not restart';
      this.options.log.error({ err: payload.error, groupId: payload.groupId, restart: payload.restart }, message);
      handlers.onCrash?.(payload.error, payload.restart);
    });
    await consumer.connect();
    if (topics.length > 0) await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 5_000,
      partitionsConsumedConcurrently: this.options.concurrency ?? 3,
      eachBatch: async ({ batch, heartbeat, isStale }) => {
        await handlers.onBatch(
          {
            topic: batch.topic,
            partition: batch.partition,
            messages: batch.messages.map((m) => new KafkajsMessage(m)),
          },
          { heartbeat, isStale },
        );
      },
    });
  }

  seek(topic: string, partition: number, offset: string): void {
    this.consumer?.seek({ topic, partition, offset });
  }

  pause(partitions: TopicPartition[]): void {
    this.consumer?.pause(groupByTopic(partitions));
  }

  resume(partitions: TopicPartition[]): void {
    this.consumer?.resume(groupByTopic(partitions));
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.disconnect();
    // It left the group: nothing for a successor to remove.
    if (this.recordName) await this.options.members?.forget(this.recordName).catch(() => undefined);
  }

  /**
   * Removes the members that processes of this host held when they died, so
   * this consumer's join does not wait for their sessions to time out. Best
   * effort and bounded: when it fails, the join waits them out as before.
   */
  private async removeDeadMembers(): Promise<void> {
    const { members, log, brokers, clientId, groupId } = this.options;
    if (!members) return;
    try {
      const dead = await members.ofDeadProcesses();
      if (dead.length === 0) return;
      const outcomes = await withTimeout(removeGroupMembers({ brokers, clientId, groupId, memberIds: dead.map((d) => d.memberId) }), EVICTION_WAIT_MS);
      log.info({ groupId, outcomes }, 'removed the group members of processes that died');
      await Promise.all(dead.map((d) => members.forget(d.name)));
    } catch (error) {
      log.warn({ err: error, groupId }, 'could not remove the group members of dead processes; joining anyway');
    }
  }
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * A kafkajs message as the worker reads it. The key is turned into text
 * only when read: the worker reads it for the few events an anomaly or a
 * dead letter names (the series key comes from the value), and decoding it
 * for every event was a tenth of a microsecond each.
 */
class KafkajsMessage implements IncomingMessage {
  readonly offset: string;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Record<string, string>;
  private readonly rawKey: Buffer | null;

  constructor(m: KafkaMessage) {
    this.offset = m.offset;
    this.value = m.value;
    this.timestamp = Number(m.timestamp);
    this.headers = m.headers ? textHeaders(m.headers) : NO_HEADERS;
    this.rawKey = m.key ?? null;
  }

  get key(): string | null {
    return this.rawKey === null ? null : this.rawKey.toString('utf8');
  }
}

/** Most events carry no header: kafkajs gives each an empty object, and they all share one frozen one here. */
function textHeaders(headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>): Record<string, string> {
  let text: Record<string, string> | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) (text ??= {})[name] = String(Array.isArray(value) ? value[0] : value);
  }
  return text ?? NO_HEADERS;
}

function groupByTopic(partitions: TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list }));
}
