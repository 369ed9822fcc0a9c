import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { WORKER_HEARTBEAT_PREFIX, WORKER_HEARTBEAT_TTL_SECONDS } from '../services/health.ts';
import type { Services } from '../services/container.ts';
import { deadLetterTopic } from '../services/streams.ts';
import { recordCanaryArrival } from './canary.ts';
import { Catalog, type StreamSpec } from './catalog.ts';
import { checkpointRows, commitBatchIsolatingPoison } from './batch-commit.ts';
import { insertAnomalies, loadPartition, ReplayedError, type CheckpointRow, type CommitResult, type RestoredCheckpoint } from './effects-store.ts';
import { InFlightGate } from './in-flight-gate.ts';
import { PartitionBackoff } from './partition-backoff.ts';
import { lastEventKey, type DetectorPartitionState, type PartitionState } from './partition-state.ts';
import { processBatch, tickPartition } from './process-batch.ts';
import { configuredConsumer, reportingConsumer } from './worker-startup.ts';
import { withWorkerRedis } from './worker-redis.ts';
import type { StartupReport } from '../core/readiness.ts';
import { serializeAnomaly } from './serialize.ts';
import { CANARY_HEADER, SCHEMA_VERSION_HEADER, type BatchControl, type EventConsumer, type IncomingBatch, type TopicPartition } from './transport.ts';
import { readIngestionLag } from './ingestion-lag.ts';
import { observeIngestionLag, recordBatch, recordCanaryLatency, recordProcessingError, recordSilenceAnomalies } from '../telemetry/metrics.ts';
import { NO_DETECTIONS, traceDetections, type Detections } from '../telemetry/spans.ts';

export interface WorkerOptions {
  /** Checkpoint detector state at least every this many events per partition... */
  checkpointEvents: number;
  /** ...or this often, whichever comes first. */
  checkpointIntervalMs: number;
  /** How often the registry is re-read for new streams, pauses and detector changes. */
  catalogRefreshMs: number;
  /** Events held in memory at once, across partitions. */
  maxInFlightEvents: number;
  /** How often time-driven detectors (FRESHNESS) are asked about silence. */
  tickIntervalMs: number;
  /** How often per-stream counts go to Redis for StreamHealth. */
  statsIntervalMs: number;
  /** Called after a commit wrote runbook executions (the outbox), to relay them at once. */
  onExecutionsPlanned: (executionIds: string[]) => void;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  checkpointEvents: 100_000,
  checkpointIntervalMs: 10_000,
  catalogRefreshMs: 2_000,
  maxInFlightEvents: 20_000,
  tickIntervalMs: 1_000,
  statsIntervalMs: 2_000,
  onExecutionsPlanned: () => undefined,
};

export interface Worker {
  id: string;
  stop(): Promise<void>;
}

const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

export { kafkaGroupOf } from './worker-startup.ts';

function newestSchemaVersion(batch: IncomingBatch): number {
  let newest = 0;
  for (const message of batch.messages) {
    const version = Number(message.headers[SCHEMA_VERSION_HEADER]);
    if (version > newest) newest = version;
  }
  return newest;
}

/**
 * The stream worker: one member of the consumer group. For each batch of a
 * partition it owns: restore that partition's position and detector state
 * from PostgreSQL if it has not yet, run the pure batch processor, commit the
 * effects and the next offset in one transaction, then announce the new
 * anomalies and copy dead letters to `<topic>.dlq`.
 */
export class StreamWorker {
  readonly id = `${hostname()}:${process.pid}`;
  private readonly catalog: Catalog;
  private readonly partitions = new Map<string, Promise<PartitionState>>();
  private readonly gate: InFlightGate;
  private readonly backoff = new PartitionBackoff(() => this.consumer);
  private consumer: EventConsumer | undefined;
  private topics: string[] = [];
  private timers: NodeJS.Timeout[] = [];
  private reconciling: Promise<void> = Promise.resolve();
  private stopped = false;
  private assigned: TopicPartition[] = [];
  private readonly control = new AbortController();
  private unobserveLag: () => void = () => undefined;

  constructor(
    private readonly services: Services,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly options: WorkerOptions = DEFAULT_WORKER_OPTIONS,
    private readonly createConsumer: () => EventConsumer = () => configuredConsumer(config, log),
  ) {
    this.catalog = new Catalog(services.ports.db, services.contracts, config.workerStreams, (detectorId, error) =>
      log.error({ detectorId, error: error.message }, 'detector skipped: its stored settings do not load'),
    );
    this.gate = new InFlightGate(options.maxInFlightEvents);
  }

  async start(): Promise<void> {
    await this.heartbeat();
    await this.reconcile();
    this.timers.push(
      setInterval(() => void this.heartbeat(), (WORKER_HEARTBEAT_TTL_SECONDS * 1000) / 3),
      setInterval(() => {
        this.reconciling = this.reconciling.then(() => this.reconcile()).catch((error) => {
          this.log.error({ err: error }, 'registry refresh failed');
        });
      }, this.options.catalogRefreshMs),
    );
    this.timers.push(setInterval(() => void this.tick(), this.options.tickIntervalMs));
    this.timers.push(setInterval(() => void this.flushStats(), this.options.statsIntervalMs));
    void this.listenForControl();
    this.unobserveLag = observeIngestionLag(() =>
      readIngestionLag(this.services.ports, this.config.consumerGroup, this.assigned, (topic) => this.catalog.stream(topic)?.name),
    );
    this.log.info({ worker: this.id, topics: this.topics }, 'worker started');
  }

  /** Shares this worker's per-stream counts (for StreamHealth) and tells streamHealth subscribers. */
  private async flushStats(): Promise<void> {
    try {
      const streams = await this.services.stats.flush();
      await Promise.all(streams.map((streamId) => this.services.pubsub.publish(CHANNELS.streamHealth, { streamId })));
    } catch (error) {
      this.log.warn({ error: (error as Error).message }, 'stream stats flush failed');
    }
  }

  /**
   * Silence is found by the clock, not by an event: FRESHNESS detectors of
   * owned partitions are asked each tick. A silent partition may send no
   * batch after a restart, so it is restored here too; silence is judged only
   * once its detector state has caught up with the position of record.
   */
  private async tick(): Promise<void> {
    const now = Date.now();
    for (const { topic, partition } of this.assigned) {
      const stream = this.catalog.stream(topic);
      if (!stream || !stream.detectors.some((d) => d.kind === 'FRESHNESS')) continue;
      try {
        const state = await this.partitionState(stream, partition);
        if (state.position < state.committedOffset) {
          // The checkpoint is older than the offsets of record: re-read from it before judging anyone silent.
          if (state.seekedTo !== state.position) {
            state.seekedTo = state.position;
            this.consumer?.seek(topic, partition, state.position.toString());
          }
          continue;
        }
        const found = tickPartition(stream, state, now);
        const inserted = await insertAnomalies(this.services.ports.db, found, this.catalog.groupingContext());
        recordSilenceAnomalies(stream.name, inserted.anomalies);
        await this.announce(stream, { ...inserted, deadLetters: [] });
      } catch (error) {
        recordProcessingError(stream.name, 'freshness');
        this.log.warn({ topic, partition, error: (error as Error).message }, 'freshness check failed');
      }
    }
  }

  /** replayStream tells workers to go back: owned partitions of the topic are restored and re-read. */
  private async listenForControl(): Promise<void> {
    const messages = this.services.pubsub.subscribe<{ type: string; topic: string }>(CHANNELS.control, this.control.signal);
    for await (const message of messages) {
      if (message.type !== 'replay') continue;
      const stream = this.catalog.stream(message.topic);
      if (!stream) continue;
      for (const { topic, partition } of this.assigned.filter((a) => a.topic === message.topic)) {
        this.partitions.delete(partitionKey(topic, partition));
        const state = await this.partitionState(stream, partition).catch(() => undefined);
        if (!state) continue;
        state.seekedTo = state.position;
        this.consumer?.seek(topic, partition, state.position.toString());
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.backoff.stop();
    this.control.abort();
    this.unobserveLag();
    for (const timer of this.timers) clearInterval(timer);
    await this.flushStats();
    await this.reconciling.catch(() => undefined);
    await this.consumer?.stop();
    this.consumer = undefined;
    await this.services.ports.redis.del(`${WORKER_HEARTBEAT_PREFIX}${this.id}`).catch(() => undefined);
    this.log.info({ worker: this.id }, 'worker stopped');
  }

  private async heartbeat(): Promise<void> {
    await this.services.ports.redis
      .set(`${WORKER_HEARTBEAT_PREFIX}${this.id}`, new Date().toISOString(), 'EX', WORKER_HEARTBEAT_TTL_SECONDS)
      .catch((error: Error) => this.log.warn({ error: error.message }, 'worker heartbeat failed'));
  }

  /**
   * Whether the registry may have changed before these events were produced:
   * they carry a newer schema version, or they are newer than the catalog and
   * the registry version moved since it was loaded.
   */
  private async catalogIsStale(batch: IncomingBatch, stream: StreamSpec | undefined): Promise<boolean> {
    if (stream && newestSchemaVersion(batch) > stream.schemaVersion) return true;
    const newest = batch.messages.reduce((max, m) => Math.max(max, m.timestamp), 0);
    if (newest < this.catalog.loadedAt) return false;
    return (await this.services.registry.current(newest)) !== this.catalog.version;
  }

  private async reloadCatalog(): Promise<void> {
    // Read the version first: a change landing during the reload is then seen as a change next time.
    const version = await this.services.registry.current();
    await this.catalog.reload(version);
  }

  /** Re-reads the registry; when the set of ACTIVE topics changed, rejoins the group with the new set. */
  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    await this.reloadCatalog();
    const topics = this.catalog.activeTopics();
    if (topics.join('\n') === this.topics.join('\n') && (this.consumer || topics.length === 0)) return;
    this.log.info({ topics }, 'consuming a new set of topics');
    await this.consumer?.stop();
    this.consumer = undefined;
    // Another member may have moved these partitions on meanwhile: restore them from PostgreSQL.
    this.partitions.clear();
    this.topics = topics;
    if (topics.length === 0 || this.stopped) return;
    const consumer = this.createConsumer();
    this.consumer = consumer;
    await consumer.start(topics, {
      onBatch: (batch, control) =>
        this.onBatch(batch, control).then(
          () => this.backoff.succeeded(batch),
          (error: unknown) => {
            recordProcessingError(this.catalog.stream(batch.topic)?.name ?? batch.topic, 'batch', batch.messages.length);
            // Not thrown to kafkajs (it would restart the whole consumer): only this partition waits, then re-reads.
            this.partitions.delete(partitionKey(batch.topic, batch.partition));
            const waitMs = this.backoff.failed(batch);
            this.log.warn({ topic: batch.topic, partition: batch.partition, waitMs, error: (error as Error).message }, 'batch failed; retrying');
          },
        ),
      onAssignment: (assigned) => this.onAssignment(assigned),
    });
  }

  private onAssignment(assigned: TopicPartition[]): void {
    this.assigned = assigned;
    const owned = new Set(assigned.map((a) => partitionKey(a.topic, a.partition)));
    for (const key of [...this.partitions.keys()]) if (!owned.has(key)) this.partitions.delete(key);
    this.log.info({ assigned: assigned.length }, 'partitions assigned');
  }

  private partitionState(stream: StreamSpec, partition: number): Promise<PartitionState> {
    const key = partitionKey(stream.topic, partition);
    let state = this.partitions.get(key);
    if (!state) {
      state = this.restore(stream, partition);
      state.catch(() => this.partitions.delete(key));
      this.partitions.set(key, state);
    }
    return state;
  }

  /** Position of record and detector checkpoints; reading restarts at the oldest point any detector needs. */
  private async restore(stream: StreamSpec, partition: number): Promise<PartitionState> {
    const restored = await loadPartition(this.services.ports.db, this.config.consumerGroup, stream.topic, partition);
    const committedOffset = restored.committedOffset ?? 0n;
    const state: PartitionState = {
      topic: stream.topic,
      partition,
      committedOffset,
      epoch: restored.epoch,
      position: committedOffset,
      detectors: new Map(),
      eventsSinceCheckpoint: 0,
      lastCheckpointAt: Date.now(),
      uncheckpointedStart: false,
      lastEvents: new Map(),
    };
    for (const detector of stream.detectors) {
      const checkpoint = restored.checkpoints.get(detector.stateKey);
      const entry = this.validCheckpoint(detector, checkpoint);
      state.detectors.set(detector.stateKey, entry ?? { nextOffset: committedOffset, series: {} });
      // A series silent since the checkpoint still has an event to name (events replayed from it replace these).
      if (entry && checkpoint) for (const [slot, event] of Object.entries(checkpoint.sources)) state.lastEvents.set(lastEventKey(detector.stateKey, slot), event);
      if (entry && entry.nextOffset < state.position) state.position = entry.nextOffset;
      if (!entry && committedOffset > 0n) state.uncheckpointedStart = true;
    }
    this.log.info(
      { topic: stream.topic, partition, committedOffset: committedOffset.toString(), position: state.position.toString() },
      'partition restored',
    );
    return state;
  }

  /** A checkpoint whose every series state this detector can load, else none (logged: the detector starts afresh). */
  private validCheckpoint(detector: StreamSpec['detectors'][number], checkpoint: RestoredCheckpoint | undefined): DetectorPartitionState | undefined {
    if (!checkpoint) return undefined;
    try {
      // fromEntries defines own properties: a series keyed "__proto__" must not write Object.prototype.
      const series = Object.fromEntries(Object.entries(checkpoint.series).map(([slot, saved]) => [slot, detector.model.restore(saved)]));
      return { nextOffset: checkpoint.nextOffset, series };
    } catch (error) {
      this.log.error({ detectorId: detector.id, error: (error as Error).message }, 'checkpoint does not load; the detector starts afresh');
      return undefined;
    }
  }

  private async onBatch(batch: IncomingBatch, control: BatchControl): Promise<void> {
    let stream = this.catalog.stream(batch.topic);
    if (await this.catalogIsStale(batch, stream)) {
      await this.reloadCatalog();
      stream = this.catalog.stream(batch.topic);
    }
    const first = batch.messages[0];
    if (!stream || !first) return;
    const key = partitionKey(batch.topic, batch.partition);
    const state = await this.partitionState(stream, batch.partition);
    const firstOffset = BigInt(first.offset);
    if (firstOffset > state.position) {
      if (state.seekedTo !== state.position) {
        // Kafka is ahead of our position of record (a fresh assignment): go back to where PostgreSQL says.
        state.seekedTo = state.position;
        this.consumer?.seek(batch.topic, batch.partition, state.position.toString());
        return;
      }
      // We asked for this position and Kafka has nothing older: retention deleted those events.
      this.log.warn(
        { topic: batch.topic, partition: batch.partition, from: state.position.toString(), to: first.offset },
        'events are gone from Kafka (retention); continuing after the gap',
      );
      state.position = firstOffset;
    }
    const size = batch.messages.length;
    await this.gate.acquire(size, control.heartbeat);
    const startedAt = performance.now();
    let detections: Detections = NO_DETECTIONS;
    try {
      const effects = processBatch(stream, state, batch.messages, this.config.maxEventBytes, this.config);
      // Spans only for events that became anomalies: none for the rest.
      detections = traceDetections(stream, effects.anomalies, performance.timeOrigin + startedAt);
      state.eventsSinceCheckpoint += size;
      const checkpointDue =
        state.uncheckpointedStart ||
        state.eventsSinceCheckpoint >= this.options.checkpointEvents ||
        Date.now() - state.lastCheckpointAt >= this.options.checkpointIntervalMs;
      const checkpoints: CheckpointRow[] = checkpointDue ? checkpointRows(stream, state) : [];
      if (control.isStale()) {
        this.partitions.delete(key);
        return;
      }
      let committed;
      try {
        const position = { topic: batch.topic, partition: batch.partition, epoch: state.epoch };
        const source = { streamId: stream.id, position, messages: batch.messages };
        committed = await detections.commit(() =>
          commitBatchIsolatingPoison(this.services.ports.db, this.config.consumerGroup, source, effects, checkpoints, this.catalog.groupingContext()),
        );
      } catch (error) {
        // Detector state ran ahead of what was committed: forget it and restore from PostgreSQL.
        this.partitions.delete(key);
        if (error instanceof ReplayedError) {
          this.log.info({ topic: batch.topic, partition: batch.partition }, error.message);
          return;
        }
        throw error;
      }
      state.position = effects.nextOffset;
      const deadLetters = effects.deadLetters.length + committed.poisoned.length;
      for (const letter of committed.poisoned) {
        this.log.warn({ topic: letter.topic, partition: letter.partition, offset: letter.offset.toString(), reason: letter.reason }, 'event dead-lettered');
      }
      this.services.stats.record(stream.id, {
        events: effects.validEvents + effects.deadLetters.length,
        deadLetters,
        untrackedEvents: effects.untrackedEvents,
        // Canaries are no events: they must not make a silent stream look fresh.
        lastEventAt: batch.messages.reduce((max, m) => (m.headers[CANARY_HEADER] === undefined ? Math.max(max, m.timestamp) : max), 0),
      });
      recordBatch(stream.name, { validEvents: effects.validEvents - committed.poisoned.length, deadLetters, anomalies: committed.anomalies, startedAt });
      if (effects.nextOffset > state.committedOffset) state.committedOffset = effects.nextOffset;
      if (checkpointDue) {
        state.eventsSinceCheckpoint = 0;
        state.lastCheckpointAt = Date.now();
        state.uncheckpointedStart = false;
      }
      if (effects.canaries.length > 0) await this.recordCanaries(stream, batch.partition, effects.canaries);
      await this.announce(stream, committed, detections);
    } finally {
      detections.end();
      this.gate.release(size);
    }
  }

  /** Committed canaries: their end-to-end time goes to the histogram and, per round, to the stream's canary hash. */
  private async recordCanaries(stream: StreamSpec, partition: number, canaries: { sentAt: number }[]): Promise<void> {
    const now = Date.now();
    try {
      for (const canary of canaries) {
        recordCanaryLatency(stream.name, (now - canary.sentAt) / 1000);
        await recordCanaryArrival(this.services.ports.redis, stream.id, partition, canary.sentAt, now);
      }
    } catch (error) {
      // The batch is committed; a lost record shows as an overdue canary, as it should.
      this.log.warn({ topic: stream.topic, partition, error: (error as Error).message }, 'canary arrival not recorded');
    }
  }

  /** After commit: live subscribers hear of new anomalies; dead letters are copied to the DLQ topic. */
  private async announce(stream: StreamSpec, committed: CommitResult, detections: Detections = NO_DETECTIONS): Promise<void> {
    const { pubsub, ports } = this.services;
    await Promise.all([
      ...committed.anomalies.map((a) => detections.publish(a, CHANNELS.anomalies, () => pubsub.publish(CHANNELS.anomalies, serializeAnomaly(a)))),
      ...[...committed.incidentIds].map((id) => pubsub.publish(CHANNELS.incidents, { id })),
    ]);
    if (committed.executionIds.length > 0) this.options.onExecutionsPlanned(committed.executionIds);
    if (committed.deadLetters.length > 0) {
      await ports.kafka
        .produce(
          deadLetterTopic(stream.topic),
          committed.deadLetters.map((d) => ({
            key: d.eventKey,
            value: d.payload,
            headers: { 'vigil-reason': d.reason, 'vigil-source': `${d.topic}/${d.partition}/${d.offset}` },
          })),
        )
        // The row in PostgreSQL is the dead letter of record; the topic copy is a convenience.
        .catch((error: Error) => {
          recordProcessingError(stream.name, 'dead_letter_copy');
          this.log.warn({ error: error.message, topic: stream.topic }, 'copy to the DLQ topic failed');
        });
    }
  }
}

/** A worker whose Redis writes never hold a batch (withWorkerRedis); `startup` hears how its start goes, for /readyz. */
export async function startWorker(
  services: Services,
  config: Config,
  log: Logger,
  options?: Partial<WorkerOptions>,
  startup?: StartupReport,
): Promise<Worker> {
  const redisSide = await withWorkerRedis(services, log);
  let consumerStarted = false;
  const createConsumer = startup
    ? () => {
        consumerStarted = true;
        return reportingConsumer(configuredConsumer(config, log), startup);
      }
    : undefined;
  const configured = { ...DEFAULT_WORKER_OPTIONS, checkpointEvents: config.checkpointEvents, checkpointIntervalMs: config.checkpointIntervalMs };
  const worker = new StreamWorker(redisSide.services, config, log, { ...configured, ...options }, createConsumer);
  startup?.pending('loading the registry');
  await worker.start().catch(async (error: unknown) => {
    await redisSide.close();
    throw error;
  });
  if (!consumerStarted) startup?.ready('no ACTIVE stream to consume');
  return { id: worker.id, stop: () => worker.stop().finally(() => redisSide.close()) };
}
