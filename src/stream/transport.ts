/**
 * The project's own boundary around Kafka. kafkajs is unmaintained, so
 * everything else talks to this interface and another client can replace it
 * by passing the same integration tests.
 */
export interface OutgoingMessage {
  key: string | null;
  value: string;
  headers?: Record<string, string>;
}

export interface TopicAdmin {
  /** Creates the topic if absent; resolves once its partitions have leaders. */
  ensureTopic(topic: string, partitions: number): Promise<void>;
  /** Partition count, or undefined when the topic does not exist. */
  partitionCount(topic: string): Promise<number | undefined>;
  /** Latest offset per partition (the offset the next message will get). */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
}

export interface EventProducer {
  produce(topic: string, messages: OutgoingMessage[]): Promise<void>;
}

export interface EventTransport extends TopicAdmin, EventProducer {
  /** Throws when no broker answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
