import type { Redis } from 'ioredis';
import type { Db } from '../store/db.ts';
import type { Stream } from '../generated/prisma/client.ts';
import { readCanary } from '../stream/canary.ts';
import type { StreamStats } from '../stream/stream-stats.ts';
import type { TopicAdmin } from '../stream/transport.ts';
import { overallHealth, type ComponentHealth, type HealthStatus } from '../core/readiness.ts';
import { readBeats, type WorkerBeat } from '../stream/worker-heartbeat.ts';
export type { ComponentHealth, HealthStatus };


export interface StreamHealth {
  stream: Stream;
  ingestionLag: number;
  eventsPerSecond: number;
  errorRate: number;
  deadLetters: number;
  /** Events over the last minute that some detector did not score: their series was beyond VIGIL_MAX_SERIES_PER_DETECTOR. */
  untrackedEvents: number;
  /** Keyed events over the last minute that arrived on another partition than Kafka's Java client picks for their series key. */
  misroutedEvents: number;
  lastEventAt: Date | null;
  freshnessSeconds: number | null;
  /** End-to-end time of the newest complete round of synthetic canaries (src/workflows/canary.ts); null before the first. */
  canaryLatencySeconds: number | null;
  /** When that round was complete (its last canary committed). */
  lastCanaryAt: Date | null;
}

const CHECK_TIMEOUT_MS = 2000;
const BEATS_FRESH_MS = 1000;

interface GroupBeats {
  ours: WorkerBeat[];
  older: number;
}

/** A worker process that holds partitions of a stream (from its heartbeat, stream/worker-heartbeat.ts). */
export interface WorkerProcess {
  id: string;
  host: string;
  pid: number;
  partitions: number[];
  lastBeatAt: Date;
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthPorts {
  db: Db;
  redis: Redis;
  kafka: TopicAdmin & { ping(): Promise<void> };
  consumerGroup: string;
  stats: StreamStats;
}

export class HealthService {
  constructor(private readonly ports: HealthPorts) {}

  /** The health of every live (not archived) stream, oldest stream first. */
  async streams(): Promise<StreamHealth[]> {
    const streams = await this.ports.db.stream.findMany({ where: { archivedAt: null }, orderBy: { id: 'asc' } });
    return this.streamsHealth(streams);
  }

  private async check(name: string, probe: () => Promise<string | null>): Promise<ComponentHealth> {
    try {
      const detail = await withTimeout(probe(), CHECK_TIMEOUT_MS);
      return { name, status: 'OK', detail };
    } catch (error) {
      return { name, status: 'DOWN', detail: (error as Error).message };
    }
  }

  /** PostgreSQL, Redis and Kafka: what the gateway needs to serve (readiness). */
  infrastructure(): Promise<ComponentHealth[]> {
    return Promise.all([
      this.check('PostgreSQL', async () => {
        await this.ports.db.$queryRaw`SELECT 1`;
        return null;
      }),
      this.check('Redis', async () => {
        await this.ports.redis.ping();
        return null;
      }),
      this.check('Kafka', async () => {
        await this.ports.kafka.ping();
        return null;
      }),
    ]);
  }

  /** The worker processes of this deployment (its consumer group) that beat in the last 15 s. */
  async workers(): Promise<ComponentHealth> {
    try {
      const { ours, older } = await withTimeout(this.beats(), CHECK_TIMEOUT_MS);
      // Workers of a version before heartbeats named their group (a rolling upgrade) count too, said apart.
      const olderNote = older > 0 ? `, ${older} of an older version` : '';
      return ours.length + older > 0
        ? { name: 'workers', status: 'OK', detail: `${ours.length} worker(s) alive${olderNote}` }
        : { name: 'workers', status: 'DEGRADED', detail: 'no worker has reported in the last 15 s' };
    } catch (error) {
      return { name: 'workers', status: 'DOWN', detail: (error as Error).message };
    }
  }

  /** The worker processes holding partitions of `topic` now, by id, with those partitions. */
  async workersOf(topic: string): Promise<WorkerProcess[]> {
    const holding = (await this.beats()).ours.filter((b) => (b.partitions[topic]?.length ?? 0) > 0);
    return holding
      .map((b) => ({ id: b.id, host: b.host, pid: b.pid, partitions: b.partitions[topic]!, lastBeatAt: new Date(b.at) }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  private recentBeats: { at: number; beats: Promise<GroupBeats> } | undefined;

  /** This group's beats, and how many keys hold an older version's bare timestamp; read at most once a second. */
  private beats(): Promise<GroupBeats> {
    const now = Date.now();
    if (this.recentBeats === undefined || now - this.recentBeats.at > BEATS_FRESH_MS) {
      const beats = readBeats(this.ports.redis).then(({ beats, others }) => ({
        ours: beats.filter((b) => b.group === this.ports.consumerGroup),
        older: others,
      }));
      beats.catch(() => (this.recentBeats = undefined));
      this.recentBeats = { at: now, beats };
    }
    return this.recentBeats.beats;
  }

  async components(): Promise<ComponentHealth[]> {
    const [infrastructure, workers] = await Promise.all([this.infrastructure(), this.workers()]);
    return [...infrastructure, workers];
  }

  static overall(components: ComponentHealth[]): HealthStatus {
    return overallHealth(components);
  }

  /**
   * Events on the stream's topic that the consumer group has not yet
   * processed: Kafka's end offsets less the offsets of record, summed over
   * partitions. Throws when Kafka cannot be asked: an unknown lag is not 0.
   */
  async ingestionLag(stream: Stream): Promise<number> {
    const [ends, committed] = await Promise.all([
      this.ports.kafka.endOffsets(stream.topic),
      this.ports.db.consumerOffset.findMany({ where: { groupId: this.ports.consumerGroup, topic: stream.topic } }),
    ]);
    return lagOf(ends, committed);
  }

  /** The stream's health view. Its lag reads 0 while Kafka cannot be reached (the Kafka component then says DOWN). */
  async stream(stream: Stream): Promise<StreamHealth> {
    return (await this.streamsHealth([stream]))[0]!;
  }

  /**
   * The health views of these streams, in their order: two SQL statements for
   * all of them (offsets of record, dead letters waiting); Kafka's end
   * offsets per topic and the Redis counters per stream, all at once.
   */
  async streamsHealth(streams: readonly Stream[]): Promise<StreamHealth[]> {
    if (streams.length === 0) return [];
    const { db, kafka, consumerGroup, stats, redis } = this.ports;
    const topics = [...new Set(streams.map((s) => s.topic))];
    const ids = streams.map((s) => s.id);
    const [committed, waiting, ends, perStream] = await Promise.all([
      db.consumerOffset.findMany({ where: { groupId: consumerGroup, topic: { in: topics } } }),
      db.deadLetter.groupBy({ by: ['streamId'], where: { streamId: { in: ids }, reprocessedAt: null }, _count: { _all: true } }),
      Promise.all(topics.map((topic) => kafka.endOffsets(topic).catch(() => undefined))),
      Promise.all(
        streams.map((s) =>
          Promise.all([stats.rates(s.id), readCanary(redis, s.id).catch(() => ({ arrivedAt: null, latencyMs: null }))]),
        ),
      ),
    ]);
    const endsOf = new Map(topics.map((topic, i) => [topic, ends[i]]));
    const committedOf = new Map<string, typeof committed>();
    for (const offset of committed) {
      const ofTopic = committedOf.get(offset.topic);
      if (ofTopic) ofTopic.push(offset);
      else committedOf.set(offset.topic, [offset]);
    }
    const deadLetters = new Map(waiting.map((w) => [w.streamId, w._count._all]));
    return streams.map((stream, i) => {
      const [rates, canary] = perStream[i]!;
      const topicEnds = endsOf.get(stream.topic);
      return {
        stream,
        ingestionLag: topicEnds ? lagOf(topicEnds, committedOf.get(stream.topic) ?? []) : 0,
        eventsPerSecond: rates.eventsPerSecond,
        errorRate: rates.errorRate,
        deadLetters: deadLetters.get(stream.id) ?? 0,
        untrackedEvents: rates.untrackedEvents,
        misroutedEvents: rates.misroutedEvents,
        lastEventAt: rates.lastEventAt,
        freshnessSeconds: rates.lastEventAt ? Math.max(0, (Date.now() - rates.lastEventAt.getTime()) / 1000) : null,
        canaryLatencySeconds: canary.arrivedAt && canary.latencyMs !== null ? canary.latencyMs / 1000 : null,
        lastCanaryAt: canary.arrivedAt,
      };
    });
  }
}

/** Events not yet processed: each partition's end offset less the offset of record, summed. */
function lagOf(ends: Map<number, bigint>, committed: readonly { partition: number; nextOffset: bigint }[]): number {
  const next = new Map(committed.map((c) => [c.partition, c.nextOffset]));
  let lag = 0n;
  for (const [partition, end] of ends) {
    const behind = end - (next.get(partition) ?? 0n);
    if (behind > 0n) lag += behind;
  }
  return Number(lag);
}
