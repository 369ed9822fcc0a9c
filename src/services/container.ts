import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { Db } from '../store/db.ts';
import { compileAllowlist } from '../core/allowlist.ts';
import { systemResolver, type OutboundPolicy } from '../outbound/target-guard.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import { ContractCache } from '../stream/contracts.ts';
import { StreamStats } from '../stream/stream-stats.ts';
import type { EventTransport } from '../stream/transport.ts';
import { AnomalyService } from './anomalies.ts';
import { BatchLoadService } from './batch-loads.ts';
import { ApiKeyService } from './api-keys.ts';
import { ambientDb } from '../store/ambient-transaction.ts';
import { transactionRunner } from './transaction.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { auditSecretsFor } from '../audit/key.ts';
import { DeadLetterService } from './dead-letters.ts';
import { DetectorService } from './detectors.ts';
import { EventService } from './events.ts';
import { ExecutionService } from './executions.ts';
import { HealthService } from './health.ts';
import { IncidentService } from './incidents.ts';
import { AuditEntryService } from './audit-entries.ts';
import { SeriesService } from './series.ts';
import { LifecycleService } from './lifecycle.ts';
import { PostmortemService } from './postmortem.ts';
import { RegistryVersion } from '../stream/registry-version.ts';
import { ReplayService } from './replay.ts';
import { RunbookService } from './runbooks.ts';
import { SharedStreamHealth } from './shared-stream-health.ts';
import { SilenceService } from './silences.ts';
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
  const { config, redis, kafka, pubsub } = ports;
  // A mutation runs in one transaction (runAudited, src/schema/guard.ts); the services' queries join it when there is one.
  const db = ambientDb(ports.db);
  // The raw client: a validator cached from a transaction that then rolled back would outlive it.
  const contracts = new ContractCache(
    ports.db,
    (streamId, version, reason) =>
      ports.log.error({ streamId, schemaVersion: version, reason }, 'stream schema cannot be enforced: every event of this version is refused (dead-lettered); update the schema'),
    // Compiled at a stream's first event, on the event loop: a slow one is worth knowing about.
    (streamId, version, ms) => {
      if (ms >= 100) ports.log.info({ streamId, schemaVersion: version, ms: Math.round(ms) }, 'stream schema compiled (slowly)');
    },
  );
  const registry = new RegistryVersion(db);
  const stats = new StreamStats(redis);
  // Where user-aimed requests (runbook webhooks) may go: checked at registration and again at send time.
  const outbound: OutboundPolicy = { allow: compileAllowlist(config.webhookAllow), resolve: systemResolver };
  const health = new HealthService({ db, redis, kafka, consumerGroup: config.consumerGroup, stats });
  return {
    registry,
    ports,
    inTransaction: transactionRunner(ports.db),
    pubsub,
    apiKeys: new ApiKeyService(db, config.adminKey),
    audit: new AuditLog(ports.db, auditSecretsFor(config, ports.log.child({ component: 'audit' }))),
    streams: new StreamService(db, kafka, config.defaultPartitions, registry, config.maxEventBytes),
    detectors: new DetectorService(db, registry),
    slas: new SlaService(db),
    silences: new SilenceService(db, registry),
    outbound,
    runbooks: new RunbookService(db, outbound),
    anomalies: new AnomalyService(db),
    incidents: new IncidentService(db, pubsub),
    executions: new ExecutionService(db, pubsub),
    deadLetters: new DeadLetterService(db, contracts, kafka),
    events: new EventService(db, contracts, kafka, config.maxEventBytes, config.maxKeyLength),
    auditEntries: new AuditEntryService(db),
    lifecycle: new LifecycleService(db, registry),
    postmortems: new PostmortemService(db),
    // What the schema's DataLoaders read: one statement per kind of row for a whole page of parents.
    batch: new BatchLoadService(db),
    series: new SeriesService(db, redis),
    replay: new ReplayService(db, kafka, pubsub, config.consumerGroup),
    stats,
    health,
    sharedStreamHealth: new SharedStreamHealth(health, (id) => db.stream.findUnique({ where: { id } })),
    contracts,
  };
}

export type Services = ReturnType<typeof createServices>;
