import type { Logger } from 'pino';
import { Catalog, type StreamSpec } from './catalog.ts';
import type { WorkerPorts } from './ports.ts';
import { SCHEMA_VERSION_HEADER, type ConsumerHandlers, type EventConsumer, type IncomingBatch, type TopicPartition } from './transport.ts';

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * What the worker consumes and who it is in the group: the catalog (streams,
 * contracts, detectors) re-read from the registry, and a consumer joined with
 * the catalog's ACTIVE topics, rejoining when that set changes. `refreshed()`
 * lets a caller (a test, a readiness check) wait for a re-read instead of
 * polling for its effect.
 */
export class TopicMembership {
  readonly catalog: Catalog;
  private current: EventConsumer | undefined;
  private topics: string[] = [];
  private owned: TopicPartition[] = [];
  private refreshing: Promise<void> = Promise.resolve();
  private waiters: Waiter[] = [];
  private stopped = false;

  constructor(
    private readonly ports: Pick<WorkerPorts, 'db' | 'contracts' | 'registry'>,
    streamPatterns: string[] | undefined,
    private readonly log: Logger,
    private readonly createConsumer: () => EventConsumer,
    /** The batch path; `onAssignment` hears of every (re)balance and of every rejoin (with no partitions). */
    private readonly handlers: ConsumerHandlers,
  ) {
    this.catalog = new Catalog(ports.db, ports.contracts, streamPatterns, (detectorId, error) =>
      log.error({ detectorId, err: error }, 'detector skipped: its stored settings do not load'),
    );
  }

  get consumer(): EventConsumer | undefined {
    return this.current;
  }

  /** The partitions the group assigns to this worker now. */
  get assigned(): readonly TopicPartition[] {
    return this.owned;
  }

  get activeTopics(): readonly string[] {
    return this.topics;
  }

  stream(topic: string): StreamSpec | undefined {
    return this.catalog.stream(topic);
  }

  /** Re-reads the registry (after any re-read under way); when the set of ACTIVE topics changed, rejoins the group with it. */
  refresh(): Promise<void> {
    const next = this.refreshing.catch(() => undefined).then(() => this.reconcile());
    this.refreshing = next;
    return next;
  }

  /**
   * Settles when a re-read that begins after this call has completed (and the
   * consumer has rejoined, if the topics changed): what the registry said at
   * the time of the call is then what the worker runs.
   */
  refreshed(): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * The stream spec to process a batch with, re-reading the registry first
   * when it may have changed before these events were produced: they carry a
   * newer schema version, or they are newer than the catalog and the registry
   * version moved since it was loaded.
   */
  async streamFor(batch: IncomingBatch): Promise<StreamSpec | undefined> {
    // The spec and the version it was loaded at are taken together, before any wait: a reload
    // installed while the registry is asked must not lend its version to the older spec.
    const { version, loadedAt } = this.catalog;
    const stream = this.catalog.stream(batch.topic);
    if (!(await this.isStale(batch, stream, version, loadedAt))) return stream;
    await this.reloadCatalog();
    return this.catalog.stream(batch.topic);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.refreshing.catch(() => undefined);
    await this.current?.stop();
    this.current = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('the worker stopped'));
  }

  private async isStale(batch: IncomingBatch, stream: StreamSpec | undefined, version: string, loadedAt: number): Promise<boolean> {
    if (stream && newestSchemaVersion(batch) > stream.schemaVersion) return true;
    const newest = batch.messages.reduce((max, m) => Math.max(max, m.timestamp), 0);
    if (newest < loadedAt) return false;
    return (await this.ports.registry.current(newest)) !== version;
  }

  private async reloadCatalog(): Promise<void> {
    // Read the version first: a change landing during the reload is then seen as a change next time.
    const version = await this.ports.registry.current();
    await this.catalog.reload(version);
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const waiters = this.waiters.splice(0);
    try {
      await this.rejoinIfChanged();
    } catch (error) {
      // Not this round: the next one answers them.
      this.waiters.unshift(...waiters);
      throw error;
    }
    for (const waiter of waiters) waiter.resolve();
  }

  private async rejoinIfChanged(): Promise<void> {
    await this.reloadCatalog();
    const topics = this.catalog.activeTopics();
    if (topics.join('\n') === this.topics.join('\n') && (this.current || topics.length === 0)) return;
    this.log.info({ topics }, 'consuming a new set of topics');
    await this.current?.stop();
    this.current = undefined;
    // Another member may have moved these partitions on meanwhile: the batch path restores them from PostgreSQL.
    this.onAssignment([]);
    this.topics = topics;
    if (topics.length === 0 || this.stopped) return;
    const consumer = this.createConsumer();
    this.current = consumer;
    await consumer.start(topics, {
      onBatch: this.handlers.onBatch,
      onAssignment: (assigned) => this.onAssignment(assigned),
      onCrash: (_error, restarting) => {
        // Stopped for good: let go of it, so that the next refresh joins the group again with a new one.
        if (!restarting && this.current === consumer) void this.dropCrashed(consumer);
      },
    });
  }

  private async dropCrashed(consumer: EventConsumer): Promise<void> {
    this.current = undefined;
    this.onAssignment([]);
    await consumer.stop().catch((error: unknown) => this.log.warn({ err: error }, 'crashed consumer did not disconnect cleanly'));
  }

  private onAssignment(assigned: TopicPartition[]): void {
    this.owned = assigned;
    this.handlers.onAssignment(assigned);
  }
}

function newestSchemaVersion(batch: IncomingBatch): number {
  let newest = 0;
  for (const message of batch.messages) {
    const version = Number(message.headers[SCHEMA_VERSION_HEADER]);
    if (version > newest) newest = version;
  }
  return newest;
}
