/**
 * The seeded stream: latency events per host with spikes at positions fixed
 * by the seed (bench/events.ts' mulberry32), produced at a steady rate. A
 * normal value stays under 300; the spike at stream position i has the value
 * 5000 + i, so each spike is one known event and, under a THRESHOLD detector
 * (max 1000), exactly one anomaly. Event times are the wall clock at which the
 * event was due, so an anomaly's detectedAt minus its eventTime is its
 * detection latency. Sends that fail (broker down) are retried until they
 * succeed; what reached the topic is read back at the end (readBack), so a
 * producer-side duplicate is never blamed on Vigil.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { mulberry32 } from '../bench/events.ts';
import { javaPartitioner } from '../src/stream/kafkajs-transport.ts';
import { sleep, type Log } from './services/proc.ts';

export const SPIKE_BASE = 5000;

export interface StreamPlan {
  topic: string;
  hosts: number;
  /** Share of events that are spikes. */
  spikeRate: number;
  /** Events per second. */
  rate: number;
  seed: number;
}

interface Outgoing {
  topic: string;
  key: string;
  value: string;
}

/** The seeded history of one stream: event i's host, and its value when it is a spike. */
export class SeededSeries {
  private readonly random: () => number;
  private index = 0;

  constructor(readonly plan: StreamPlan) {
    this.random = mulberry32(plan.seed);
  }

  next(at: number): Outgoing & { spike: boolean } {
    const i = this.index++;
    const hostIndex = Math.floor(this.random() * this.plan.hosts);
    const spike = this.random() < this.plan.spikeRate;
    const normal = 40 + ((hostIndex * 37) % 160) + (this.random() - 0.5) * 20;
    const host = `host-${hostIndex}`;
    const latency = spike ? SPIKE_BASE + i : Math.round(normal * 100) / 100;
    return { topic: this.plan.topic, key: host, value: JSON.stringify({ host, latency_ms: latency, at: new Date(at).toISOString() }), spike };
  }
}

export class Traffic {
  private readonly kafka: Kafka;
  private readonly series: SeededSeries[];
  private readonly queue: Outgoing[] = [];
  private producer: Producer | undefined;
  private generating = false;
  private sender: Promise<void> | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private readonly generated: number[];
  /** Events acknowledged by the broker. */
  acked = 0;
  spikesGenerated = 0;
  sendFailures = 0;

  constructor(
    brokers: string[],
    plans: StreamPlan[],
    private readonly log: Log,
  ) {
    this.kafka = new Kafka({
      clientId: 'vigil-chaos-traffic',
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 5000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    this.series = plans.map((plan) => new SeededSeries(plan));
    this.generated = plans.map(() => 0);
  }

  start(): void {
    this.startedAt = Date.now();
    this.generating = true;
    // Every 20 ms, queue the events due by now at each stream's rate: a steady rate whatever the sender's pace.
    this.ticker = setInterval(() => this.generate(), 20);
    this.sender = this.sendLoop();
  }

  private generate(): void {
    const now = Date.now();
    const elapsed = (now - this.startedAt) / 1000;
    this.series.forEach((s, k) => {
      const due = Math.floor(elapsed * s.plan.rate);
      while (this.generated[k]! < due) {
        const event = s.next(now);
        if (event.spike) this.spikesGenerated++;
        this.queue.push(event);
        this.generated[k]!++;
      }
    });
  }

  get generatedTotal(): number {
    return this.generated.reduce((a, b) => a + b, 0);
  }

  /** Sends one extra message (the long-key scenario's poison) ahead of the queue; resolves once acknowledged. */
  async inject(topic: string, key: string, value: string): Promise<{ partition: number; offset: bigint }> {
    for (;;) {
      try {
        const [meta] = await (await this.connected()).send({ topic, messages: [{ key, value }], acks: -1 });
        return { partition: meta!.partition, offset: BigInt(meta!.baseOffset ?? '0') };
      } catch {
        await this.reset();
      }
    }
  }

  /** Resolves once `count` events are acknowledged (or throws at the deadline). */
  async waitAcked(count: number, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked < count) {
      if (Date.now() > deadline) throw new Error(`traffic: only ${this.acked} of ${count} events acknowledged`);
      await sleep(20);
    }
  }

  /** Stops generating and waits until every queued event is acknowledged. */
  async stop(timeoutMs = 180_000): Promise<void> {
    this.generating = false;
    clearInterval(this.ticker);
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) await sleep(50);
    await this.sender;
    await this.producer?.disconnect().catch(() => undefined);
    if (this.queue.length > 0) throw new Error(`traffic: ${this.queue.length} events could not be sent`);
  }

  private async connected(): Promise<Producer> {
    if (!this.producer) {
      // Vigil's partitioner, not kafkajs' own: its hash of the poison's 100,000-character key held this process for half a second.
      const producer = this.kafka.producer({ createPartitioner: javaPartitioner, allowAutoTopicCreation: false });
      await producer.connect();
      this.producer = producer;
    }
    return this.producer;
  }

  private async reset(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    await old?.disconnect().catch(() => undefined);
    await sleep(200);
  }

  private async sendLoop(): Promise<void> {
    while (this.generating || this.queue.length > 0) {
      if (this.queue.length === 0) {
        await sleep(10);
        continue;
      }
      const batch = this.queue.slice(0, 500);
      const byTopic = new Map<string, { key: string; value: string }[]>();
      for (const m of batch) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), { key: m.key, value: m.value }]);
      try {
        const producer = await this.connected();
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        this.queue.splice(0, batch.length);
        this.acked += batch.length;
      } catch (error) {
        if (this.sendFailures++ % 20 === 0) this.log(`traffic: send failed (${(error as Error).message}); retrying`);
        await this.reset();
      }
    }
  }
}

export interface ReadBack {
  /** "topic value" of each spike -> how many copies of it the topic holds. */
  spikes: Map<string, number>;
  /** "topic key" of every series that has at least one spike. */
  spikeSeries: Set<string>;
  /** Values of other events above the detector's max (the poison), with their keys' lengths. */
  others: { value: number; keyLength: number; partition: number; offset: string }[];
  messages: number;
}

/** Reads whole topics back from the broker: which spikes (and how many copies) they really hold. */
export async function readBack(brokers: string[], topics: string[]): Promise<ReadBack> {
  const kafka = new Kafka({ clientId: 'vigil-chaos-readback', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, bigint>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(p.high) > BigInt(p.low)) remaining.set(`${topic}:${p.partition}`, BigInt(p.high));
    }
  }
  await admin.disconnect();
  const result: ReadBack = { spikes: new Map(), spikeSeries: new Set(), others: [], messages: 0 };
  if (remaining.size === 0) return result;
  const consumer = kafka.consumer({ groupId: `vigil-chaos-readback-${Date.now()}-${Math.random().toString(36).slice(2)}`, maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          result.messages++;
          if (m.headers?.['vigil-canary'] === undefined && m.value) {
            const value = (JSON.parse(m.value.toString('utf8')) as { latency_ms: number }).latency_ms;
            if (value >= SPIKE_BASE) {
              const id = `${batch.topic} ${value}`;
              result.spikes.set(id, (result.spikes.get(id) ?? 0) + 1);
              result.spikeSeries.add(`${batch.topic} ${m.key?.toString('utf8') ?? ''}`);
            }
            else if (value > 1000) result.others.push({ value, keyLength: m.key?.length ?? 0, partition: batch.partition, offset: m.offset });
          }
          const key = `${batch.topic}:${batch.partition}`;
          if (remaining.has(key) && BigInt(m.offset) + 1n >= remaining.get(key)!) remaining.delete(key);
        }
        if (remaining.size === 0) resolve();
      },
    });
  });
  const timeout = sleep(120_000).then(() => {
    throw new Error(`read-back of ${topics.join(', ')} did not finish: ${[...remaining.keys()].join(', ')} left`);
  });
  try {
    await Promise.race([done, timeout]);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return result;
}
