import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { EventTransport, OutgoingMessage } from './transport.ts';

/** EventTransport over kafkajs. Connections are opened lazily and reused. */
export class KafkajsTransport implements EventTransport {
  private readonly kafka: Kafka;
  private admin: Promise<Admin> | undefined;
  private producer: Promise<Producer> | undefined;

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
        createPartitioner: Partitioners.DefaultPartitioner,
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
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, configEntries }] });
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
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  }

  async offsetsForTime(topic: string, time: Date): Promise<Map<number, bigint>> {
    const admin = await this.getAdmin();
    const [byTime, ends] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, time.getTime()), this.endOffsets(topic)]);
    // Kafka answers -1 for a partition with no message at or after the time: start at its end.
    return new Map(byTime.map((o) => [o.partition, o.offset === '-1' ? (ends.get(o.partition) ?? 0n) : BigInt(o.offset)]));
  }

  async produce(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.getProducer();
    await producer.send({
      topic,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers, ...(m.partition === undefined ? {} : { partition: m.partition }) })),
    });
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
