import type { Db } from '../store/db.ts';
import { createDetector, type DetectorModel } from '../detectors/detector.ts';
import type { DetectorKind, DetectorMode, Severity, StreamStatus } from '../generated/prisma/enums.ts';
import type { ContractCache, Validate } from './contracts.ts';
import { DEFAULT_INCIDENT_POLICY, type IncidentPolicy } from '../incidents/policy.ts';
import type { GroupingContext } from '../incidents/writer.ts';
import { PartitionCheck } from './partitioning.ts';
import { LATE_EVENT_MS, pipelineSilences, silenceSpecOf, type SilenceSpec } from './maintenance-silences.ts';
import { SELF_STREAM_NAME } from '../incidents/self-monitoring-notices.ts';

/** A detector's current version, as the worker runs it. */
export interface DetectorSpec {
  id: string;
  name: string;
  field: string;
  /** `field` split on dots, once. */
  fieldPath: string[];
  version: number;
  kind: DetectorKind;
  params: Record<string, unknown>;
  mode: DetectorMode;
  severity: Severity;
  model: DetectorModel;
  /** Detector state is kept per version: a new version starts a new baseline. */
  stateKey: string;
  incidentPolicy: IncidentPolicy;
}

export interface StreamSpec {
  id: string;
  name: string;
  topic: string;
  keyField: string | null;
  timestampField: string | null;
  keyPath: string[] | null;
  timestampPath: string[] | null;
  status: StreamStatus;
  schemaVersion: number;
  validate: Validate;
  detectors: DetectorSpec[];
  /** Partitions of the topic as registered: keyed events are checked against Kafka's partitioner for this count. */
  partitions?: number;
  partitionCheck?: PartitionCheck;
  /** Its silences not over (or over within LATE_EVENT_MS), oldest first: anomalies they cover open no incident. */
  silences?: SilenceSpec[];
}

/**
 * What the worker consumes: every stream with its contract (compiled on its
 * first event) and the current version of each enabled detector. Reloaded
 * when the registry changes; contracts and detector models are reused across reloads.
 */
export class Catalog {
  private byTopic = new Map<string, StreamSpec>();
  private models = new Map<string, DetectorModel>();

  private readonly accepts: (streamName: string) => boolean;

  constructor(
    private readonly db: Db,
    private readonly contracts: ContractCache,
    streamPatterns?: string[],
    private readonly onBrokenDetector: (detectorId: string, error: Error) => void = () => undefined,
  ) {
    this.accepts = streamNameFilter(streamPatterns);
  }

  /** The registry version this catalog was loaded at, and when. */
  version = '';
  loadedAt = 0;
  /** Reloads in the order they began, and the newest one installed: reloads may overlap (a timer's and a batch's). */
  private reloadsBegun = 0;
  private reloadInstalled = 0;

  async reload(version?: string): Promise<void> {
    const ticket = ++this.reloadsBegun;
    const loadedAt = Date.now();
    // Archived streams are not consumed and archived detectors not run (src/services/lifecycle.ts).
    const streams = await this.db.stream.findMany({
      where: { archivedAt: null },
      include: {
        detectors: { where: { archivedAt: null }, include: { versions: { orderBy: { version: 'desc' }, take: 1 } } },
        silences: { where: { endsAt: { gt: new Date(loadedAt - LATE_EVENT_MS) } }, orderBy: { id: 'asc' } },
      },
    });
    const accepted = streams.filter((stream) => this.accepts(stream.name));
    const schemas = await this.schemasNotHeld(accepted);
    const next = new Map<string, StreamSpec>();
    const models = new Map<string, DetectorModel>();
    for (const stream of accepted) {
      const detectors: DetectorSpec[] = [];
      for (const detector of stream.detectors) {
        const current = detector.versions[0];
        if (!current || current.version !== detector.currentVersion || current.mode === 'DISABLED') continue;
        const stateKey = `${detector.id}@${current.version}`;
        let model = this.models.get(stateKey);
        try {
          model ??= createDetector(current.kind, current.params as Record<string, unknown>, detector.field);
        } catch (error) {
          // One detector whose stored settings no longer load must not stop the stream's other detectors.
          this.onBrokenDetector(detector.id, error as Error);
          continue;
        }
        models.set(stateKey, model);
        detectors.push({
          id: detector.id,
          name: detector.name,
          field: detector.field,
          fieldPath: detector.field.split('.'),
          version: current.version,
          kind: current.kind,
          params: current.params as Record<string, unknown>,
          mode: current.mode,
          severity: current.severity,
          model,
          stateKey,
          incidentPolicy: {
            groupBy: detector.incidentGroupBy === 'SERIES' ? 'SERIES' : 'DETECTOR',
            correlationWindowSeconds: detector.correlationWindowSeconds,
            flapWindowSeconds: detector.flapWindowSeconds,
            quietPeriodSeconds: detector.quietPeriodSeconds,
          },
        });
      }
      next.set(stream.topic, {
        id: stream.id,
        name: stream.name,
        topic: stream.topic,
        keyField: stream.keyField,
        timestampField: stream.timestampField,
        keyPath: stream.keyField ? stream.keyField.split('.') : null,
        timestampPath: stream.timestampField ? stream.timestampField.split('.') : null,
        status: stream.status,
        schemaVersion: stream.schemaVersion,
        validate: this.contracts.lazy(stream.id, stream.schemaVersion, schemas.get(`${stream.id}@${stream.schemaVersion}`)),
        detectors,
        partitions: stream.partitions,
        partitionCheck: this.byTopic.get(stream.topic)?.partitionCheck ?? new PartitionCheck(),
        silences: stream.silences.map(silenceSpecOf),
      });
    }
    const self = [...next.values()].find((stream) => stream.name === SELF_STREAM_NAME);
    if (self) {
      // From every stream, consumed here or not: the self stream watches them all.
      const watched = streams.filter((stream) => stream.name !== SELF_STREAM_NAME).map((stream) => ({ id: stream.id, silences: stream.silences.map(silenceSpecOf) }));
      self.silences = pipelineSilences(self.silences ?? [], watched);
    }
    // A reload that began earlier but ended later read older rows: installing it would put back a
    // catalog without what the newer one saw (a detector registered in between), for the batches
    // that asked for the newer one.
    if (ticket < this.reloadInstalled) return;
    this.reloadInstalled = ticket;
    this.byTopic = next;
    this.models = models;
    this.loadedAt = loadedAt;
    if (version !== undefined) this.version = version;
  }

  /**
   * The current schemas of the streams whose contract is not held yet, in one
   * query: fetched, not compiled (that waits for a first event, see
   * ContractCache), so a registry of hundreds of streams loads in milliseconds.
   */
  private async schemasNotHeld(streams: { id: string; schemaVersion: number }[]): Promise<Map<string, unknown>> {
    const missing = streams.filter((s) => !this.contracts.has(s.id, s.schemaVersion));
    if (missing.length === 0) return new Map();
    const rows = await this.db.streamSchemaVersion.findMany({
      where: { OR: missing.map((s) => ({ streamId: s.id, version: s.schemaVersion })) },
      select: { streamId: true, version: true, schema: true },
    });
    const found = new Map(rows.map((row) => [`${row.streamId}@${row.version}`, row.schema as unknown]));
    for (const s of missing) {
      if (!found.has(`${s.id}@${s.schemaVersion}`)) throw new Error(`stream ${s.id} has no schema version ${s.schemaVersion}`);
    }
    return found;
  }

  /** What incident grouping needs to know about the detectors in this catalog. */
  groupingContext(): Omit<GroupingContext, 'now'> {
    const detectors = new Map<string, { spec: DetectorSpec; stream: StreamSpec }>();
    for (const stream of this.byTopic.values()) for (const spec of stream.detectors) detectors.set(spec.id, { spec, stream });
    return {
      policyOf: (detectorId) => detectors.get(detectorId)?.spec.incidentPolicy ?? DEFAULT_INCIDENT_POLICY,
      describe: (anomaly) => {
        const found = detectors.get(anomaly.detectorId);
        return { stream: found?.stream.name ?? anomaly.streamId, detector: found?.spec.name ?? anomaly.detectorId };
      },
      describeDetector: (detectorId) => {
        const found = detectors.get(detectorId);
        return { streamId: found?.stream.id ?? '', streamName: found?.stream.name ?? '', detectorName: found?.spec.name ?? detectorId };
      },
    };
  }

  stream(topic: string): StreamSpec | undefined {
    return this.byTopic.get(topic);
  }

  /** Topics the worker should consume: those of ACTIVE streams. */
  activeTopics(): string[] {
    return [...this.byTopic.values()]
      .filter((s) => s.status === 'ACTIVE')
      .map((s) => s.topic)
      .sort();
  }
}

/** Matches stream names against patterns where "*" stands for any run of characters. */
export function streamNameFilter(patterns: string[] | undefined): (name: string) => boolean {
  if (!patterns || patterns.length === 0) return () => true;
  const regexes = patterns.map(
    (p) => new RegExp(`^${p.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`),
  );
  return (name) => regexes.some((r) => r.test(name));
}
