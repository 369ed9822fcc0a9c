import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { observeIngestionLag, recordBatch, recordProcessingError } from '../telemetry/metrics.ts';
import { nowMs, NO_DETECTIONS, traceDetections, type Detections } from '../telemetry/spans.ts';
import { Announcer } from './announce.ts';
import { checkpointRows, commitBatchIsolatingPoison, type BatchCommit } from './batch-commit.ts';
import { ReplayedError, type CheckpointRow } from './effects-store.ts';
import { InFlightGate } from './in-flight-gate.ts';
import { readIngestionLag } from './ingestion-lag.ts';
import { checkpointCommitted, checkpointDue, PartitionStates, seekToPosition } from './partition-restore.ts';
import type { WorkerPorts } from './ports.ts';
import { PartitionBackoff } from './partition-backoff.ts';
import { processBatch } from './process-batch.ts';
import { SeriesPointsRecorder } from './series-points.ts';
import { checkSilence } from './silence-check.ts';
import { TopicMembership } from './topic-membership.ts';
import { CANARY_HEADER, type BatchControl, type EventConsumer, type IncomingBatch } from './transport.ts';
import { beat, clearBeat } from './worker-heartbeat.ts';
import { DEFAULT_WORKER_OPTIONS, type WorkerOptions } from './worker-options.ts';
import { flushStreamStats, WorkerTimers } from './worker-timers.ts';

/**
 * The stream worker: one member of the consumer group. For each batch of a
 * partition it owns: restore that partition's position and detector state
 * from PostgreSQL if it has not yet (partition-restore.ts), run the pure
 * batch processor, commit the effects and the next offset in one
 * transaction, then announce what was committed (announce.ts). What it
 * consumes is topic-membership.ts; what it does on the clock, worker-timers.ts.
 */
export class StreamWorker {
  readonly id = `${hostname()}:${process.pid}`;
  readonly membership: TopicMembership;
  private readonly states: PartitionStates;
  private readonly announcer: Announcer;
  private readonly seriesPoints: SeriesPointsRecorder;
  private readonly timers: WorkerTimers;
  private readonly gate: InFlightGate;
  private readonly backoff = new PartitionBackoff(() => this.membership.consumer);
  private readonly control = new AbortController();
  private unobserveLag: () => void = () => undefined;
  /** Heartbeats under way. */
  private readonly beats = new Set<Promise<unknown>>();
  /** Settles once replay instructions reach this worker. */
  listening: Promise<void> = Promise.resolve();

  constructor(
    private readonly ports: WorkerPorts,
    private readonly config: Config,
    private readonly log: Logger,
    createConsumer: () => EventConsumer,
    private readonly options: WorkerOptions = DEFAULT_WORKER_OPTIONS,
  ) {
    this.gate = new InFlightGate(options.maxInFlightEvents);
    this.states = new PartitionStates(ports.db, config.consumerGroup, log);
    this.announcer = new Announcer(ports, log, options.onExecutionsPlanned);
    this.seriesPoints = new SeriesPointsRecorder(ports.redis, log);
    this.membership = new TopicMembership(ports, config.workerStreams, log, createConsumer, {
      onBatch: (batch, control) => this.onBatchRetryingAlone(batch, control),
      onAssignment: (assigned) => {
        this.states.retain(assigned);
        this.log.info({ assigned: assigned.length }, 'partitions assigned');
        void this.heartbeat(); // stream health shows who holds which partition: say so now, not at the next beat
      },
    });
    const parts = { ports, membership: this.membership, states: this.states, announcer: this.announcer, log };
    this.timers = new WorkerTimers(
      {
        heartbeat: () => this.heartbeat(),
        refreshCatalog: () => this.membership.refresh(),
        checkSilence: () => checkSilence(parts),
        flushStats: () => flushStreamStats(ports, log),
      },
      options,
      log,
    );
  }

  async start(): Promise<void> {
    await this.heartbeat();
    await this.membership.refresh();
    this.timers.start();
    this.listening = this.followReplays();
    const { membership, ports, config } = this;
    this.unobserveLag = observeIngestionLag(() => readIngestionLag(ports, config.consumerGroup, membership.assigned, (topic) => membership.stream(topic)?.name));
    this.log.info({ worker: this.id, topics: membership.activeTopics }, 'worker started');
  }

  async stop(): Promise<void> {
    this.backoff.stop();
    this.control.abort();
    this.unobserveLag();
    this.timers.stop();
    await flushStreamStats(this.ports, this.log);
    await this.membership.stop();
    await this.seriesPoints.settled();
    // A beat sent before the stop must not land after clearBeat and list this process for another 15 s.
    await Promise.all([...this.beats]);
    await clearBeat(this.ports.redis, this.id).catch(() => undefined);
    this.log.info({ worker: this.id }, 'worker stopped');
  }

  private async heartbeat(): Promise<void> {
    if (this.control.signal.aborted) return; // stopping: clearBeat has the last word
    const me = { id: this.id, host: hostname(), pid: process.pid, group: this.config.consumerGroup };
    const beating = beat(this.ports.redis, me, this.membership.assigned).catch((error: unknown) => this.log.warn({ err: error }, 'worker heartbeat failed'));
    this.beats.add(beating);
    await beating;
    this.beats.delete(beating);
  }

  /** replayStream tells workers to go back: owned partitions of the topic are restored and re-read. Resolves once subscribed. */
  private followReplays(): Promise<void> {
    const { pubsub } = this.ports;
    const messages = pubsub.subscribe<{ type: string; topic: string }>(CHANNELS.control, this.control.signal);
    void (async () => {
      for await (const message of messages) {
        const stream = message.type === 'replay' ? this.membership.stream(message.topic) : undefined;
        if (!stream) continue;
        const partitions = this.membership.assigned.filter((a) => a.topic === message.topic).map((a) => a.partition);
        await this.states.replay(stream, partitions, this.membership.consumer);
      }
    })().catch((error: unknown) => this.log.error({ err: error }, 'replay instructions no longer followed'));
    return pubsub.subscribed?.(CHANNELS.control) ?? Promise.resolve();
  }

  /** A failure is not thrown to kafkajs (it would restart the whole consumer): only this partition waits, then re-reads. */
  private async onBatchRetryingAlone(batch: IncomingBatch, control: BatchControl): Promise<void> {
    try {
      await this.onBatch(batch, control);
      this.backoff.succeeded(batch);
    } catch (error) {
      recordProcessingError(this.membership.stream(batch.topic)?.name ?? batch.topic, 'batch', batch.messages.length);
      this.states.forget(batch.topic, batch.partition);
      const waitMs = this.backoff.failed(batch);
      this.log.warn({ topic: batch.topic, partition: batch.partition, waitMs, err: error }, 'batch failed; retrying');
    }
  }

  private async onBatch(batch: IncomingBatch, control: BatchControl): Promise<void> {
    const stream = await this.membership.streamFor(batch);
    const first = batch.messages[0];
    if (!stream || !first) return;
    const state = await this.states.get(stream, batch.partition);
    const firstOffset = BigInt(first.offset);
    if (firstOffset > state.position) {
      // Kafka is ahead of our position of record (a fresh assignment): go back to where PostgreSQL says.
      if (seekToPosition(state, this.membership.consumer)) return;
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
      const withCheckpoints = checkpointDue(state, this.options);
      const checkpoints: CheckpointRow[] = withCheckpoints ? checkpointRows(stream, state) : [];
      if (control.isStale()) {
        this.states.forget(batch.topic, batch.partition);
        return;
      }
      const position = { topic: batch.topic, partition: batch.partition, epoch: state.epoch };
      const source = { streamId: stream.id, position, messages: batch.messages };
      const commitStartedAt = nowMs();
      let committed: BatchCommit;
      try {
        const grouping = this.membership.catalog.groupingContext();
        committed = await commitBatchIsolatingPoison(this.ports.db, this.config.consumerGroup, source, effects, checkpoints, grouping);
        detections.recordCommit(commitStartedAt, { committed: committed.anomalies });
      } catch (error) {
        detections.recordCommit(commitStartedAt, { failed: error });
        // Detector state ran ahead of what was committed: forget it and restore from PostgreSQL.
        this.states.forget(batch.topic, batch.partition);
        if (error instanceof ReplayedError) {
          this.log.info({ topic: batch.topic, partition: batch.partition }, error.message);
          return;
        }
        throw error;
      }
      state.position = effects.nextOffset;
      if (effects.nextOffset > state.committedOffset) state.committedOffset = effects.nextOffset;
      if (withCheckpoints) checkpointCommitted(state);
      const deadLetters = effects.deadLetters.length + committed.poisoned.length;
      for (const letter of committed.poisoned) {
        this.log.warn({ topic: letter.topic, partition: letter.partition, offset: letter.offset.toString(), reason: letter.reason }, 'event dead-lettered');
      }
      this.ports.stats.record(stream.id, {
        events: effects.validEvents + effects.deadLetters.length,
        deadLetters,
        untrackedEvents: effects.untrackedEvents,
        misrouted: effects.misrouted,
        // Canaries are no events: they must not make a silent stream look fresh.
        lastEventAt: batch.messages.reduce((max, m) => (m.headers[CANARY_HEADER] === undefined ? Math.max(max, m.timestamp) : max), 0),
      });
      recordBatch(stream.name, { validEvents: effects.validEvents - committed.poisoned.length, deadLetters, anomalies: committed.anomalies, startedAt });
      // Not awaited: the chart's points never hold the batch (series-points.ts).
      if (effects.points) this.seriesPoints.record(stream.name, effects.points);
      if (effects.canaries.length > 0) await this.announcer.recordCanaries(stream, batch.partition, effects.canaries);
      await this.announcer.announce(stream, committed, detections);
    } finally {
      detections.end();
      this.gate.release(size);
    }
  }
}
