import type { Db } from '../store/db.ts';
import type { TopicAdmin, TopicPartition } from './transport.ts';
import type { LagReading } from '../telemetry/metrics.ts';

/**
 * Ingestion lag of the partitions a worker owns: Kafka's end offset minus the
 * offset of record in PostgreSQL (what the group has committed), per
 * partition. Read when metrics are collected: one query and one offsets
 * request per topic, nothing on the event path.
 */
export async function readIngestionLag(
  ports: { db: Db; kafka: TopicAdmin },
  groupId: string,
  assigned: readonly TopicPartition[],
  streamName: (topic: string) => string | undefined,
): Promise<LagReading[]> {
  if (assigned.length === 0) return [];
  const topics = [...new Set(assigned.map((a) => a.topic))];
  const [committed, ends] = await Promise.all([
    ports.db.consumerOffset.findMany({ where: { groupId, topic: { in: topics } }, select: { topic: true, partition: true, nextOffset: true } }),
    Promise.all(topics.map(async (topic) => [topic, await ports.kafka.endOffsets(topic)] as const)),
  ]);
  const next = new Map(committed.map((c) => [`${c.topic}:${c.partition}`, c.nextOffset]));
  const endOf = new Map(ends);
  const readings: LagReading[] = [];
  for (const { topic, partition } of assigned) {
    const end = endOf.get(topic)?.get(partition);
    if (end === undefined) continue;
    const behind = end - (next.get(`${topic}:${partition}`) ?? 0n);
    readings.push({ stream: streamName(topic) ?? topic, topic, partition, lag: behind > 0n ? Number(behind) : 0 });
  }
  return readings;
}
