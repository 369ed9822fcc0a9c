import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import { ContractCache } from '../stream/contracts.ts';
import { StreamStats } from '../stream/stream-stats.ts';
import type { EventTransport } from '../stream/transport.ts';
import { AnomalyService } from './anomalies.ts';
import { ApiKeyService } from './api-keys.ts';
import { AuditLog } from './audit.ts';
import { DeadLetterService } from './dead-letters.ts';
import { DetectorService } from './detectors.ts';
import { EventService } from './events.ts';
import { ExecutionService } from './executions.ts';
import { HealthService } from './health.ts';
import { IncidentService } from './incidents.ts';
import { RegistryVersion } from './registry-version.ts';
import { ReplayService } from './replay.ts';
import { RunbookService } from './runbooks.ts';
import { SlaService } from './slas.ts';
import { StreamService } from './streams.ts';

/** The adapters a process has opened; the services are built over them. */
export interface Ports {
  config: Config;
  db: Db;
  redis: Redis;
  kafka: EventTransport;
  pubsub: PubSub;
  log: Logger;
}

export function createServices(ports: Ports) {
  const { config, db, redis, kafka, pubsub } = ports;
  const contracts = new ContractCache(db);
  const registry = new RegistryVersion(redis);
  const stats = new StreamStats(redis);
  return {
    registry,
    ports,
    pubsub,
    apiKeys: new ApiKeyService(db, config.adminKey),
    audit: new AuditLog(db),
    streams: new StreamService(db, kafka, config.defaultPartitions, registry, config.maxEventBytes),
    detectors: new DetectorService(db, registry),
    slas: new SlaService(db),
    runbooks: new RunbookService(db),
    anomalies: new AnomalyService(db),
    incidents: new IncidentService(db),
    executions: new ExecutionService(db, pubsub),
    deadLetters: new DeadLetterService(db, contracts, kafka),
    events: new EventService(db, contracts, kafka, config.maxEventBytes),
    replay: new ReplayService(db, kafka, pubsub, config.consumerGroup),
    stats,
    health: new HealthService({ db, redis, kafka, consumerGroup: config.consumerGroup, stats }),
    contracts,
  };
}

export type Services = ReturnType<typeof createServices>;
