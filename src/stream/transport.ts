/**
 * The project's own boundary around Kafka. kafkajs is unmaintained, so
 * everything else talks to this interface and another client can replace it
 * by passing the same integration tests.
 */
/**
 * Header naming the schema version an event was checked against before it
 * was produced (publishEvents, reprocessDeadLetters): a worker whose registry
 * is older re-reads it first, instead of judging the event by a stale contract.
 */
export const SCHEMA_VERSION_HEADER = 'vigil-schema-version';

/**
 * Header marking a synthetic canary event (src/workflows/canary.ts), its
 * value the epoch milliseconds it was sent: the worker commits it like any
 * event but never validates, scores or dead-letters it.
 */
export const CANARY_HEADER = 'vigil-canary';

export interface OutgoingMessage {
  key: string | null;
  value: string;
  headers?: Record<string, string>;
  /** An explicit partition (the canary checks each one); unset: by key. */
  partition?: number;
}

export interface TopicAdmin {
  /**
   * Creates the topic if absent (with `maxMessageBytes` as its max.message.bytes when given; an
   * existing topic keeps its settings); resolves once its partitions have leaders.
   */
  ensureTopic(topic: string, partitions: number, maxMessageBytes?: number): Promise<void>;
  /** Partition count, or undefined when the topic does not exist. */
  partitionCount(topic: string): Promise<number | undefined>;
  /** Grows the topic to `total` partitions (Kafka cannot shrink a topic); resolves once they have leaders. */
  addPartitions(topic: string, total: number): Promise<void>;
  /** Latest offset per partition (the offset the next message will get); fails at once with MissingTopicError when the topic does not exist. */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  /** Per partition, the first offset whose timestamp is at or after `time` (the end offset if none is); fails at once with MissingTopicError when the topic does not exist. */
  offsetsForTime(topic: string, time: Date): Promise<Map<number, bigint>>;
}

/** The broker has no topic of that name: deleted outside Vigil, or never created. Not worth retrying. */
export class MissingTopicError extends Error {
  constructor(readonly topic: string) {
    super(`topic ${topic} does not exist on the broker`);
    this.name = 'MissingTopicError';
  }
}

export interface EventProducer {
  /** Fails at once with MissingTopicError when the topic does not exist. */
  produce(topic: string, messages: OutgoingMessage[]): Promise<void>;
}

export interface EventTransport extends TopicAdmin, EventProducer {
  /** Throws when no broker answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface IncomingMessage {
  /** Decimal string: Kafka offsets exceed 2^53. */
  offset: string;
  key: string | null;
  value: Buffer | null;
  /** Broker or producer timestamp, epoch milliseconds. */
  timestamp: number;
  headers: Record<string, string>;
}

export interface IncomingBatch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface BatchControl {
  /** Keeps group membership alive during a long batch. */
  heartbeat(): Promise<void>;
  /** True when the partition was reassigned while the batch ran: its effects must not be committed. */
  isStale(): boolean;
}

export interface ConsumerHandlers {
  /** Resolving means the batch is done; throwing makes the consumer fetch it again. */
  onBatch(batch: IncomingBatch, control: BatchControl): Promise<void>;
  /** The partitions this member owns after a (re)balance. */
  onAssignment(assigned: TopicPartition[]): void;
  /** The consumer crashed; `restarting`: it restarts on its own, else it has stopped consuming. */
  onCrash?(error: Error, restarting: boolean): void;
}

/**
 * A member of a consumer group. Offsets of record live in PostgreSQL, so the
 * consumer is told where to read (`seek`) rather than trusted to remember.
 */
export interface EventConsumer {
  start(topics: string[], handlers: ConsumerHandlers): Promise<void>;
  seek(topic: string, partition: number, offset: string): void;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  stop(): Promise<void>;
}
