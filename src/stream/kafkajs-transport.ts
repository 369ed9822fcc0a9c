import { Kafka, logLevel, Partitioners, type Admin, type ICustomPartitioner, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { javaPartition } from './murmur2.ts';
import { TopicDirectory } from './topic-directory.ts';
import { MissingTopicError, type EventTransport, type OutgoingMessage } from './transport.ts';

const TOPIC_LEADERS_TIMEOUT_MS = 30_000;
const TOPIC_LEADERS_POLL_MS = 250;

/** kafkajs marks transient errors `retriable`, on the error or on the one its retrier gave up on. */
function isRetriable(error: unknown): boolean {
  const e = error as { retriable?: boolean; originalError?: { retriable?: boolean }; cause?: { retriable?: boolean } };
  return e?.retriable === true || e?.originalError?.retriable === true || e?.cause?.retriable === true;
}

type TopicAdmin = Pick<Admin, 'createTopics' | 'fetchTopicMetadata'>;

/**
 * Creates a topic (nothing if it exists) and resolves once every partition has a leader.
 * On a busy broker, electing the leaders can outlast kafkajs' own wait (about 6 s) though the
 * topic exists by then: a retriable failure there waits longer instead of failing the caller.
 */
export async function createTopicWithLeaders(
  admin: TopicAdmin,
  spec: { topic: string; numPartitions: number; configEntries: { name: string; value: string }[] },
  timeoutMs = TOPIC_LEADERS_TIMEOUT_MS,
): Promise<void> {
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [spec] });
  } catch (error) {
    if (!isRetriable(error)) throw error;
    await waitForLeaders(admin, spec.topic, spec.numPartitions, timeoutMs, error as Error);
  }
}

/** Resolves once every partition of `topic` has a leader; rejects with `cause` after `timeoutMs`. */
async function waitForLeaders(admin: TopicAdmin, topic: string, partitions: number, timeoutMs: number, cause: Error): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    const found = metadata?.topics[0]?.partitions ?? [];
    if (found.length >= partitions && found.every((p) => p.leader >= 0)) return;
    if (Date.now() > deadline) throw new Error(`topic ${topic}: partitions without a leader after ${timeoutMs} ms`, { cause });
    await new Promise((resolve) => setTimeout(resolve, TOPIC_LEADERS_POLL_MS));
  }
}

/**
 * kafkajs' DefaultPartitioner (the Java client's, see partitioning.ts) with
 * its hash of a keyed message's key done by murmur2.ts: kafkajs' own took
 * half a second of the event loop for the 100,000-character key of a dead
 * letter copied to `<topic>.dlq`, and 5 µs for a short one. Keyless messages
 * and explicit partitions go to kafkajs unchanged (its round-robin over
 * partitions with a leader stays its own).
 */
export const javaPartitioner: ICustomPartitioner = () => {
  const partitioner = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition != null || message.key == null) return partitioner(args);
    return javaPartition(message.key, partitionMetadata.length);
  };
};

/** EventTransport over kafkajs. Connections are opened lazily and reused. */
export class KafkajsTransport implements EventTransport {
  private readonly kafka: Kafka;
  private admin: Promise<Admin> | undefined;
  private producer: Promise<Producer> | undefined;
  private readonly topics = new TopicDirectory(async () => (await this.getAdmin()).listTopics());

  constructor(brokers: string[], clientId: string, private readonly log: Logger) {
    this.kafka = new Kafka({
      clientId,
      brokers,
      logLevel: logLevel.WARN,
      logCreator: () => ({ namespace, level, log: entry }) => {
        const { message, ...rest } = entry;
        const fields = { namespace, ...rest };
        if (level <= logLevel.ERROR) this.log.error(fields, message);
        else this.log.warn(fields, message);
      },
      retry: { retries: 5, initialRetryTime: 200 },
    });
  }

  private getAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error) => {
      this.admin = undefined;
      throw error;
    });
    return this.admin;
  }

  private getProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({
        createPartitioner: javaPartitioner,
        // Topics are created by registerStream with their partition count, never by a broker's defaults.
        allowAutoTopicCreation: false,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      return producer;
    })().catch((error) => {
      this.producer = undefined;
      throw error;
    });
    return this.producer;
  }

  async ensureTopic(topic: string, partitions: number, maxMessageBytes?: number): Promise<void> {
    const admin = await this.getAdmin();
    const configEntries = maxMessageBytes === undefined ? [] : [{ name: 'max.message.bytes', value: String(maxMessageBytes) }];
    await createTopicWithLeaders(admin, { topic, numPartitions: partitions, configEntries });
  }

  async partitionCount(topic: string): Promise<number | undefined> {
    const admin = await this.getAdmin();
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return undefined;
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]?.partitions.length;
  }

  async addPartitions(topic: string, total: number): Promise<void> {
    const admin = await this.getAdmin();
    await admin.createPartitions({ validateOnly: false, timeout: 30_000, topicPartitions: [{ topic, count: total }] });
  }

  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    const admin = await this.getAdmin();
    await this.mustExist(topic);
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  }

  async offsetsForTime(topic: string, time: Date): Promise<Map<number, bigint>> {
    const admin = await this.getAdmin();
    await this.mustExist(topic);
    const [byTime, ends] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, time.getTime()), this.endOffsets(topic)]);
    // Kafka answers -1 for a partition with no message at or after the time: start at its end.
    return new Map(byTime.map((o) => [o.partition, o.offset === '-1' ? (ends.get(o.partition) ?? 0n) : BigInt(o.offset)]));
  }

  /** Fails at once for a topic the broker does not have, where kafkajs would retry for 6 to 8 s (topic-directory.ts). */
  private async mustExist(topic: string): Promise<void> {
    if (!(await this.topics.has(topic))) throw new MissingTopicError(topic);
  }

  async produce(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.getProducer();
    await this.mustExist(topic);
    // As they are: an OutgoingMessage is a kafkajs message (an unset partition means by key), and kafkajs only reads them.
    await producer.send({ topic, messages: messages satisfies Message[] });
  }

  async ping(): Promise<void> {
    const admin = await this.getAdmin();
    await admin.describeCluster();
  }

  async close(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    if (this.producer) closing.push(this.producer.then((p) => p.disconnect()).catch(() => undefined));
    if (this.admin) closing.push(this.admin.then((a) => a.disconnect()).catch(() => undefined));
    this.producer = undefined;
    this.admin = undefined;
    await Promise.all(closing);
  }
}
