import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { Detector, Stream } from '../generated/prisma/client.ts';
import type { Severity } from '../generated/prisma/enums.ts';
import { ConflictError } from '../core/errors.ts';
import { HealthService, type StreamHealth } from '../services/health.ts';
import type { Services } from '../services/container.ts';
import { streamNameFilter } from '../stream/catalog.ts';
import { SCHEMA_VERSION_HEADER, type OutgoingMessage } from '../stream/transport.ts';
import { SELF_STREAM_NAME, SELF_STREAM_TOPIC } from '../incidents/self-monitoring-notices.ts';

export { SELF_STREAM_NAME, SELF_STREAM_TOPIC };

/**
 * Self-monitoring: Vigil's own pipeline metrics, one event per monitored
 * stream per sample, fed to Vigil's own detectors through an ordinary stream.
 * Everything after the sampler is the normal pipeline: the worker consumes
 * the topic, THRESHOLD detectors make anomalies, incidents group per
 * monitored stream (SERIES on `stream`) and resolve after a quiet period.
 */
/** Who registers the stream and its detectors (audit, schema versions). */
export const SELF_ACTOR = 'vigil';

/** Redis hash the canary writes per stream: sentAt, arrivedAt, latencyMs (epoch ms / ms). */
export const canaryKey = (streamId: string) => `vigil:canary:${streamId}`;

export const SELF_STREAM_SCHEMA = {
  type: 'object',
  properties: {
    stream: { type: 'string', description: 'id of the monitored stream (the series key)' },
    streamName: { type: 'string' },
    ingestionLag: { type: 'number', description: 'events in Kafka not yet committed by the consumer group' },
    errorRate: { type: 'number', description: 'dead letters / events over the last minute' },
    eventsPerSecond: { type: 'number' },
    canaryOverdueSeconds: { type: 'number', description: 'how long the latest canary has been on its way; 0 when it arrived' },
    at: { type: 'string', format: 'date-time' },
  },
  required: ['stream', 'ingestionLag', 'errorRate', 'canaryOverdueSeconds', 'at'],
} as const;

export interface SelfSample {
  stream: string;
  streamName: string;
  ingestionLag: number;
  errorRate: number;
  eventsPerSecond: number;
  canaryOverdueSeconds: number;
  at: string;
}

/** The canary hash as read from Redis (HGETALL): absent fields are missing keys. */
export type CanaryHash = Record<string, string | undefined>;

/** Seconds the latest canary has been overdue: 0 when none was sent, or the last one arrived. */
export function canaryOverdueSeconds(canary: CanaryHash | null | undefined, now: number): number {
  const sentAt = Number(canary?.sentAt ?? 0);
  const arrivedAt = Number(canary?.arrivedAt ?? 0);
  if (!Number.isFinite(sentAt) || sentAt <= 0) return 0;
  if (Number.isFinite(arrivedAt) && arrivedAt >= sentAt) return 0;
  return Math.max(0, (now - sentAt) / 1000);
}

/** One sample of a stream's pipeline: a pure function of its health and canary hash. */
export function buildSelfSample(
  health: Pick<StreamHealth, 'ingestionLag' | 'errorRate' | 'eventsPerSecond'> & { stream: Pick<Stream, 'id' | 'name'> },
  canary: CanaryHash | null | undefined,
  now: number,
): SelfSample {
  const finite = (value: number) => (Number.isFinite(value) ? value : 0);
  return {
    stream: health.stream.id,
    streamName: health.stream.name,
    ingestionLag: finite(health.ingestionLag),
    errorRate: finite(health.errorRate),
    eventsPerSecond: Math.round(finite(health.eventsPerSecond) * 1000) / 1000,
    canaryOverdueSeconds: Math.round(canaryOverdueSeconds(canary, now) * 1000) / 1000,
    at: new Date(now).toISOString(),
  };
}

export interface SelfDetectorSpec {
  name: string;
  field: keyof SelfSample;
  max: number;
  severity: Severity;
}

/** The self stream's detectors, from configuration: one THRESHOLD per pipeline metric. */
export function selfDetectorSpecs(config: Pick<Config, 'selfLagMax' | 'selfErrorRateMax' | 'selfCanaryMaxSeconds'>): SelfDetectorSpec[] {
  return [
    { name: 'lag', field: 'ingestionLag', max: config.selfLagMax, severity: 'WARNING' },
    { name: 'errors', field: 'errorRate', max: config.selfErrorRateMax, severity: 'CRITICAL' },
    { name: 'canary', field: 'canaryOverdueSeconds', max: config.selfCanaryMaxSeconds, severity: 'WARNING' },
  ];
}

/** Whether a worker with these stream patterns consumes the self stream (and so registers it and runs the sampler). */
export function consumesSelfStream(workerStreams: string[] | undefined): boolean {
  return streamNameFilter(workerStreams)(SELF_STREAM_NAME);
}

/**
 * Registers the self stream and its detectors if missing, idempotently (any
 * number of workers may start at once). The configuration is authoritative
 * for the detectors' bounds, severity and quiet period: a detector whose
 * settings differ gets a new version saying so.
 */
export async function ensureSelfStream(services: Services, config: Config, log: Logger): Promise<Stream> {
  let stream = await services.streams.find({ name: SELF_STREAM_NAME });
  if (!stream) {
    try {
      stream = await services.streams.register(
        {
          name: SELF_STREAM_NAME,
          topic: SELF_STREAM_TOPIC,
          schema: SELF_STREAM_SCHEMA,
          keyField: 'stream',
          timestampField: 'at',
          valueFields: ['ingestionLag', 'errorRate', 'canaryOverdueSeconds', 'eventsPerSecond'],
          partitions: 1,
          retentionDays: 7,
        },
        SELF_ACTOR,
      );
      log.info({ stream: stream.id }, 'self-monitoring stream registered');
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      stream = await services.streams.find({ name: SELF_STREAM_NAME });
      if (!stream) throw error;
    }
  }
  const existing = await services.ports.db.detector.findMany({
    where: { streamId: stream.id },
    include: { versions: { orderBy: { version: 'desc' }, take: 1 } },
  });
  const incidentPolicy = { groupBy: 'SERIES', quietPeriodSeconds: config.selfQuietSeconds };
  for (const spec of selfDetectorSpecs(config)) {
    const found = existing.find((d) => d.name === spec.name);
    if (!found) {
      try {
        await services.detectors.register(
          { streamId: stream.id, name: spec.name, field: spec.field, kind: 'THRESHOLD', params: { max: spec.max }, severity: spec.severity, incidentPolicy },
          SELF_ACTOR,
        );
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
      continue;
    }
    await reconcile(services, found, spec, config, log);
  }
  return stream;
}

async function reconcile(
  services: Services,
  detector: Detector & { versions: { kind: string; params: unknown; severity: Severity }[] },
  spec: SelfDetectorSpec,
  config: Config,
  log: Logger,
): Promise<void> {
  const current = detector.versions[0];
  const params = (current?.params ?? {}) as Record<string, unknown>;
  const settingsDiffer = current?.kind !== 'THRESHOLD' || params.max !== spec.max || params.min != null || current.severity !== spec.severity;
  const policyDiffers = detector.incidentGroupBy !== 'SERIES' || detector.quietPeriodSeconds !== config.selfQuietSeconds;
  if (!settingsDiffer && !policyDiffers) return;
  try {
    await services.detectors.update(
      detector.id,
      {
        ...(settingsDiffer ? { kind: 'THRESHOLD' as const, params: { min: null, max: spec.max }, severity: spec.severity } : {}),
        ...(policyDiffers ? { incidentPolicy: { groupBy: 'SERIES', quietPeriodSeconds: config.selfQuietSeconds } } : {}),
      },
      SELF_ACTOR,
    );
    log.info({ detector: detector.name, max: spec.max }, 'self-monitoring detector updated from configuration');
  } catch (error) {
    // Another worker starting at the same moment did it.
    if (!(error instanceof ConflictError)) throw error;
  }
}

/**
 * One sampling pass (the `self-monitor` job): the health of every ACTIVE
 * stream but the self stream (and only those matching `streams`, when
 * given; lag against `group`'s committed offsets), produced to the self
 * stream's topic as one event each.
 */
export async function sampleSelf(
  services: Services,
  options: { streams: string[] | null; group: string },
  now = Date.now(),
): Promise<{ sampled: number }> {
  const { db, kafka, redis } = services.ports;
  const patterns = options.streams;
  // Lag is measured against the group that consumes the monitored streams, which may not be this worker's.
  const health =
    options.group === services.ports.config.consumerGroup
      ? services.health
      : new HealthService({ db, redis, kafka, consumerGroup: options.group, stats: services.stats });
  const self = await db.stream.findUnique({ where: { name: SELF_STREAM_NAME } });
  if (!self) return { sampled: 0 };
  const accepts = streamNameFilter(patterns ?? undefined);
  const streams = (await db.stream.findMany({ where: { status: 'ACTIVE', archivedAt: null, id: { not: self.id } }, orderBy: { id: 'asc' } })).filter((s) =>
    accepts(s.name),
  );
  if (streams.length === 0) return { sampled: 0 };
  const samples = await Promise.all(
    streams.map(async (stream) => {
      const [streamHealth, canary] = await Promise.all([health.stream(stream), redis.hgetall(canaryKey(stream.id))]);
      return buildSelfSample(streamHealth, canary, now);
    }),
  );
  const messages: OutgoingMessage[] = samples.map((sample) => ({
    key: sample.stream,
    value: JSON.stringify(sample),
    headers: { [SCHEMA_VERSION_HEADER]: String(self.schemaVersion) },
  }));
  await kafka.produce(self.topic, messages);
  return { sampled: messages.length };
}
