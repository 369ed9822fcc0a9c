import type { Attributes, Counter, Histogram, Meter, ObservableResult, UpDownCounter } from '@opentelemetry/api';
import { withTimeout } from '../core/with-timeout.ts';
import { RateWindow } from './rate-window.ts';
import { VanishingSeries } from './vanishing-series.ts';

/**
 * Vigil's metrics: the instruments, created once when telemetry starts, and
 * small recording functions the pipeline calls per batch (never per event).
 * Until telemetry starts (and after it stops) every function here returns at
 * once. Names are OpenTelemetry instrument names; the Prometheus exporter
 * appends `_total` to counters (README, "Telemetry", lists the series).
 */

/** One owned partition's backlog: the end offset in Kafka minus the committed offset. */
export interface LagReading {
  stream: string;
  topic: string;
  partition: number;
  lag: number;
}

/** Job counts by BullMQ state (waiting, active, delayed, failed, ...). */
export type QueueCounts = Record<string, number>;

interface Instruments {
  events: Counter;
  deadLetters: Counter;
  anomalies: Counter;
  processingErrors: Counter;
  detectionLatency: Histogram;
  batchDuration: Histogram;
  canaryLatency: Histogram;
  stepFailures: Counter;
  jobFailures: Counter;
  consumerCrashes: Counter;
  openSubscriptions: UpDownCounter;
}

let instruments: Instruments | undefined;

/** Sources read when metrics are collected (a scrape, an OTLP export), registered by the components that own them. */
const lagSources = new Set<() => Promise<LagReading[]>>();
const queueSources = new Map<string, () => Promise<QueueCounts>>();
const silenceSources = new Set<() => Promise<SilenceReading[]>>();

/** Silences in force on a stream now. */
export interface SilenceReading {
  stream: string;
  active: number;
}

/** A source that does not answer within this long is skipped for this collection. */
const OBSERVE_TIMEOUT_MS = 3000;

/** Per-stream rates over the last minute, in this process. */
const windows = new Map<string, RateWindow>();

// ---------- attributes, allocated once per stream ----------

interface StreamAttributes {
  stream: Attributes;
  valid: Attributes;
  deadLetter: Attributes;
}
const streamAttributes = new Map<string, StreamAttributes>();

function attributesOf(stream: string): StreamAttributes {
  let cached = streamAttributes.get(stream);
  if (!cached) {
    cached = { stream: { stream }, valid: { stream, outcome: 'valid' }, deadLetter: { stream, outcome: 'dead_letter' } };
    streamAttributes.set(stream, cached);
  }
  return cached;
}

/** Series that are often zero exist from a stream's first batch on, so a rate over them starts at 0, not absent. */
const zeroed = new WeakSet<Instruments>();
const zeroedStreams = new Set<string>();

function zeroSeries(m: Instruments, stream: string, attrs: StreamAttributes): void {
  if (!zeroed.has(m)) {
    zeroed.add(m);
    zeroedStreams.clear();
  }
  if (zeroedStreams.has(stream)) return;
  zeroedStreams.add(stream);
  m.events.add(0, attrs.deadLetter);
  m.deadLetters.add(0, attrs.stream);
  m.processingErrors.add(0, { stream, stage: 'batch' });
}

// ---------- instruments ----------

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];
const BATCH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Creates the instruments on a meter (telemetry start); the recording functions below use them from then on. */
export function installMetrics(meter: Meter): void {
  const lagSeries = new VanishingSeries();
  const silenceSeries = new VanishingSeries();
  instruments = {
    events: meter.createCounter('vigil_events', {
      description: 'Events the worker read and committed, by stream and outcome (valid or dead_letter)',
    }),
    deadLetters: meter.createCounter('vigil_dead_letters', { description: 'Events dead-lettered (malformed, oversized, contract violation), by stream' }),
    anomalies: meter.createCounter('vigil_anomalies', { description: 'Anomalies recorded, by stream and severity' }),
    processingErrors: meter.createCounter('vigil_processing_errors', {
      description: 'Failures while processing: a batch that must be fetched again, a freshness check, a dead-letter copy, a write of series points; by stream and stage',
    }),
    detectionLatency: meter.createHistogram('vigil_detection_latency_seconds', {
      description: "From an anomalous event's own time to its anomaly being committed (window latency), by stream",
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
    }),
    batchDuration: meter.createHistogram('vigil_batch_duration_seconds', {
      description: 'Time to detect in and commit one batch of a partition, by stream',
      unit: 's',
      advice: { explicitBucketBoundaries: BATCH_BUCKETS },
    }),
    canaryLatency: meter.createHistogram('vigil_canary_latency_seconds', {
      description: 'From a synthetic canary being produced to its being committed by a worker (end to end, per partition), by stream',
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
    }),
    stepFailures: meter.createCounter('vigil_runbook_step_failures', { description: 'Runbook step attempts that failed, by action' }),
    jobFailures: meter.createCounter('vigil_runbook_job_failures', { description: 'BullMQ job attempts that failed, by job name' }),
    consumerCrashes: meter.createCounter('vigil_consumer_crashes', {
      description: 'Kafka consumer crashes (kafkajs consumer.crash), by group and whether it restarts on its own',
    }),
    openSubscriptions: meter.createUpDownCounter('vigil_open_subscriptions', { description: 'GraphQL subscriptions open on this gateway, by channel' }),
  };

  meter
    .createObservableGauge('vigil_ingestion_lag', {
      description: "Events in Kafka not yet committed by the consumer group, per partition this worker owns (end offset minus committed offset)",
    })
    .addCallback(async (result) => {
      const readings = await Promise.allSettled([...lagSources].map((source) => withTimeout(source(), OBSERVE_TIMEOUT_MS)));
      for (const reading of readings) {
        if (reading.status !== 'fulfilled') continue;
        for (const r of reading.value) lagSeries.observe(result, r.lag, `${r.topic}\0${r.partition}`, { stream: r.stream, topic: r.topic, partition: r.partition });
      }
      lagSeries.settle(result, readings.every((reading) => reading.status === 'fulfilled'));
    });
  meter
    .createObservableGauge('vigil_events_per_second', { description: 'Events this process committed per second over the last minute, by stream' })
    .addCallback((result) => observeWindows(result, 'eventsPerSecond'));
  meter
    .createObservableGauge('vigil_processing_error_rate', {
      description: 'Share of events over the last minute that were dead-lettered or in a batch that failed, by stream',
    })
    .addCallback((result) => observeWindows(result, 'errorRate'));
  meter
    .createObservableGauge('vigil_silences_active', { description: 'Silences in force now (started, not ended), by stream (0: none)' })
    .addCallback(async (result) => {
      const readings = await Promise.allSettled([...silenceSources].map((source) => withTimeout(source(), OBSERVE_TIMEOUT_MS)));
      // Every process running workflows reads the same rows: one reading is the answer.
      const first = readings.find((reading) => reading.status === 'fulfilled');
      // An archived stream leaves the readings; without the 0 it would show its last count for ever.
      for (const r of first?.value ?? []) silenceSeries.observe(result, r.active, r.stream, attributesOf(r.stream).stream);
      silenceSeries.settle(result, first !== undefined);
    });
  meter
    .createObservableGauge('vigil_runbook_queue_depth', { description: 'BullMQ runbook jobs by state (waiting, active, delayed, failed, ...)' })
    .addCallback(async (result) => {
      const readings = await Promise.allSettled([...queueSources].map(async ([queue, source]) => ({ queue, counts: await withTimeout(source(), OBSERVE_TIMEOUT_MS) })));
      for (const reading of readings) {
        if (reading.status !== 'fulfilled') continue;
        for (const [state, count] of Object.entries(reading.value.counts)) result.observe(count, { queue: reading.value.queue, state });
      }
    });
}

function observeWindows(result: ObservableResult, which: 'eventsPerSecond' | 'errorRate'): void {
  const now = Date.now();
  for (const [stream, window] of windows) result.observe(window.read(now)[which], attributesOf(stream).stream);
}

export function uninstallMetrics(): void {
  instruments = undefined;
}

// ---------- recording (the pipeline calls these) ----------

export interface BatchOutcome {
  validEvents: number;
  deadLetters: number;
  /** Anomalies this commit created. */
  anomalies: readonly { severity: string; eventTime: Date }[];
  /** performance.now() when the batch started. */
  startedAt: number;
}

/** One committed batch: counts, the window latency of each new anomaly, and the batch's duration. */
export function recordBatch(stream: string, outcome: BatchOutcome): void {
  const m = instruments;
  if (!m) return;
  const attrs = attributesOf(stream);
  zeroSeries(m, stream, attrs);
  if (outcome.validEvents > 0) m.events.add(outcome.validEvents, attrs.valid);
  if (outcome.deadLetters > 0) {
    m.events.add(outcome.deadLetters, attrs.deadLetter);
    m.deadLetters.add(outcome.deadLetters, attrs.stream);
  }
  if (outcome.anomalies.length > 0) {
    const now = Date.now();
    for (const anomaly of outcome.anomalies) {
      m.anomalies.add(1, { stream, severity: anomaly.severity });
      m.detectionLatency.record(Math.max(0, (now - anomaly.eventTime.getTime()) / 1000), attrs.stream);
    }
  }
  m.batchDuration.record((performance.now() - outcome.startedAt) / 1000, attrs.stream);
  windowOf(stream).add(Date.now(), outcome.validEvents + outcome.deadLetters, outcome.deadLetters, 0);
}

/** A committed canary's end-to-end time (src/workflows/canary.ts). */
export function recordCanaryLatency(stream: string, seconds: number): void {
  instruments?.canaryLatency.record(Math.max(0, seconds), attributesOf(stream).stream);
}

/** Anomalies found by the clock (silence) rather than by an event. */
export function recordSilenceAnomalies(stream: string, anomalies: readonly { severity: string }[]): void {
  const m = instruments;
  if (!m) return;
  for (const anomaly of anomalies) m.anomalies.add(1, { stream, severity: anomaly.severity });
}

export type ProcessingStage = 'batch' | 'freshness' | 'dead_letter_copy' | 'series_points';

/** A processing failure; `events` is how many events it held back (a failed batch's size), for the error rate. */
export function recordProcessingError(stream: string, stage: ProcessingStage, events = 0): void {
  const m = instruments;
  if (!m) return;
  m.processingErrors.add(1, { stream, stage });
  if (events > 0) windowOf(stream).add(Date.now(), 0, 0, events);
}

function windowOf(stream: string): RateWindow {
  let window = windows.get(stream);
  if (!window) {
    window = new RateWindow();
    windows.set(stream, window);
  }
  return window;
}

export function recordStepFailure(action: string): void {
  instruments?.stepFailures.add(1, { action });
}

export function recordJobFailure(job: string): void {
  instruments?.jobFailures.add(1, { job });
}

/** The Kafka consumer crashed; `restarting`: kafkajs restarts it (a retriable error), else the worker must. */
export function recordConsumerCrash(group: string, restarting: boolean): void {
  instruments?.consumerCrashes.add(1, { group, restarting: String(restarting) });
}

export function subscriptionOpened(channel: string): void {
  instruments?.openSubscriptions.add(1, { channel });
}

export function subscriptionClosed(channel: string): void {
  instruments?.openSubscriptions.add(-1, { channel });
}

// ---------- sources read at collection ----------

/** Reports ingestion lag from `source` at each collection until the returned function is called. */
export function observeIngestionLag(source: () => Promise<LagReading[]>): () => void {
  lagSources.add(source);
  return () => void lagSources.delete(source);
}

/** Reports a BullMQ queue's job counts at each collection until the returned function is called. */
export function observeQueueDepth(queue: string, source: () => Promise<QueueCounts>): () => void {
  queueSources.set(queue, source);
  return () => {
    if (queueSources.get(queue) === source) queueSources.delete(queue);
  };
}

/** Reports the silences in force at each collection until the returned function is called. */
export function observeSilences(source: () => Promise<SilenceReading[]>): () => void {
  silenceSources.add(source);
  return () => void silenceSources.delete(source);
}
