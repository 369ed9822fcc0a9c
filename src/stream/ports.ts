import type { Redis } from 'ioredis';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { Db } from '../store/db.ts';
import type { ContractCache } from './contracts.ts';
import type { RegistryVersion } from './registry-version.ts';
import type { StreamStats } from './stream-stats.ts';
import type { EventProducer, TopicAdmin } from './transport.ts';

/**
 * What the stream worker needs from the process, and no more. The stream
 * layer sits below the service layer, so it names these ports itself; the
 * composition root (src/app/worker-side.ts) hands over the process's
 * adapters, and a test or a benchmark may hand over its own.
 */
export interface WorkerPorts {
  /** Effects, offsets and checkpoints of record. */
  db: Db;
  /** The heartbeat and canary arrivals (the worker replaces it with a connection of its own: worker-redis.ts). */
  redis: Redis;
  /** The dead-letter copy to `<topic>.dlq` and end offsets for the ingestion-lag gauge. */
  kafka: EventProducer & TopicAdmin;
  /** Live announcements of anomalies, incidents and stream health; replay instructions to workers. */
  pubsub: PubSub;
  /** Compiled stream contracts, shared with the gateway side of the process. */
  contracts: ContractCache;
  /** Per-stream counts for StreamHealth, flushed to Redis. */
  stats: StreamStats;
  /** The registry's version: a moved version means the catalog must be re-read. */
  registry: RegistryVersion;
}
