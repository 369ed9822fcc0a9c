// Proves the local broker from src/services/kafka-broker.ts carries real traffic
// for kafkajs: topic admin, a produce, and a consumer-group read.
import { describe, it, expect, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { ensureKafkaBroker } from '../../dev/kafka-broker.ts';
import { waitFor } from '../support/processes.ts';

const brokers = ['127.0.0.1:9092'];

describe('local Kafka broker', () => {
  const kafka = new Kafka({ clientId: 'vigil-broker-test', brokers, logLevel: logLevel.WARN });
  const topic = `vigil-broker-test-${randomUUID()}`;
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  let topicExists = false;

  // Clients first: a consumer still subscribed to a deleted topic logs errors while it rebalances.
  async function disconnectAndDeleteTopic() {
    await consumer?.disconnect();
    await producer?.disconnect();
    if (admin && topicExists) {
      await admin.deleteTopics({ topics: [topic] });
      topicExists = false;
    }
    await admin?.disconnect();
    consumer = producer = admin = undefined;
  }

  // Only has work left when the test failed half-way; keeps the shared broker free of stray topics.
  afterAll(disconnectAndDeleteTopic, 30_000);

  it('is running (started on demand, a no-op when already up)', async () => {
    await ensureKafkaBroker({ projectRoot: process.cwd(), brokers, log: (msg) => console.log(msg) });
  }, 120_000);

  it('creates a topic, then produces and consumes a message through it', async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] });
    topicExists = true;
    expect(await admin.listTopics()).toContain(topic);

    consumer = kafka.consumer({ groupId: `${topic}-group` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = new Promise<{ key?: string; value?: string }>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ message }) =>
          resolve({ key: message.key?.toString(), value: message.value?.toString() }),
      });
    });

    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const value = JSON.stringify({ metric: 'cpu', value: 0.93, at: new Date().toISOString() });
    await producer.send({ topic, messages: [{ key: 'host-1', value }] });

    expect(await received).toEqual({ key: 'host-1', value });

    const checkAdmin = kafka.admin();
    await disconnectAndDeleteTopic();
    await checkAdmin.connect();
    // Deletion is acknowledged by the controller; a broker's metadata may list the topic a moment longer.
    let listed: string[] = [];
    await waitFor(async () => !(listed = await checkAdmin.listTopics()).includes(topic), 15_000, () => `${topic} still listed after its deletion`);
    expect(listed).not.toContain(topic);
    await checkAdmin.disconnect();
  }, 60_000);
});
