import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { recordStepFailure } from './metrics.ts';
import { childTraceparent, formatTraceparent, parseTraceparent } from './trace-context.ts';

/**
 * Vigil's spans. One trace per event that becomes an anomaly:
 *
 *   publishEvents (gateway; child of the caller's traceparent, injected as the Kafka header)
 *   ├─ detect (worker; per anomaly, child of the message's traceparent)
 *   │  ├─ commit (the batch's database transaction, recorded once it settled)
 *   │  └─ publish anomaly (the pub/sub announcement)
 *   └─ runbook step (per step attempt of a runbook the anomaly's incident started)
 *
 * Events that make no anomaly get no span: the worker's per-event cost stays zero.
 * No context manager is installed; parents are passed explicitly. This module
 * only records: whatever it traces (a commit, a query for a parent) is done by
 * the caller, which hands over the times and outcomes.
 */

const TRACER = 'vigil';
const tracer = () => trace.getTracer(TRACER);

/** A remote parent from a W3C traceparent, or the root context when there is none. */
export function contextOf(traceparent: string | null | undefined): Context {
  const parent = parseTraceparent(traceparent);
  return parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true }) : ROOT_CONTEXT;
}

/** The traceparent naming this span (to put in a header or a row). */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return formatTraceparent(traceId, spanId, traceFlags);
}

/** Epoch milliseconds with sub-millisecond precision, as span times. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

function fail(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

// ---------- publishEvents ----------

/**
 * Runs a publishEvents call in a `publishEvents` span, a child of the
 * caller's traceparent; `produce` gets the traceparent to send as the Kafka
 * header, naming this span, so the worker's spans join the same trace.
 */
export async function tracePublish<T extends { accepted: number; rejected: unknown[] }>(
  streamId: string,
  incoming: string | null | undefined,
  produce: (traceparent: string, span: Span) => Promise<T>,
): Promise<T> {
  const parent = contextOf(incoming);
  const span = tracer().startSpan(
    'publishEvents',
    { kind: SpanKind.PRODUCER, attributes: { 'vigil.stream.id': streamId, 'messaging.system': 'kafka', 'messaging.operation.type': 'send' } },
    parent,
  );
  // Without a tracer provider the span is the caller's own context: still send a child of it.
  const own = span.spanContext().spanId !== trace.getSpanContext(parent)?.spanId && trace.isSpanContextValid(span.spanContext());
  const traceparent = own ? traceparentOf(span) : childTraceparent(incoming);
  try {
    const result = await produce(traceparent, span);
    span.setAttributes({ 'messaging.batch.message_count': result.accepted, 'vigil.events.rejected': result.rejected.length });
    return result;
  } catch (error) {
    fail(span, error);
    throw error;
  } finally {
    span.end();
  }
}

// ---------- the worker: event -> anomaly ----------

/** What the worker knows of an anomaly before it is committed. */
export interface DetectedAnomaly {
  detectorId: string;
  detectorVersion: number;
  topic: string;
  partition: number;
  offset: bigint;
  severity: string;
  score: number;
  shadow: boolean;
  traceparent: string | null;
}

/** A committed anomaly row (what the commit created). */
export interface CommittedAnomaly {
  id: string;
  detectorId: string;
  detectorVersion: number;
  offset: bigint;
}

/** How a batch's transaction ended: the anomalies it created, or why it failed. */
export type CommitOutcome = { committed: readonly CommittedAnomaly[] } | { failed: unknown };

/**
 * The spans of one batch's anomalies. A batch without anomalies gets
 * NO_DETECTIONS, whose methods record nothing.
 */
export interface Detections {
  /** Records the batch's transaction, begun at `startTime` (nowMs()), as a `commit` child of every detect span. */
  recordCommit(startTime: number, outcome: CommitOutcome): void;
  /** Runs an anomaly's pub/sub announcement, recorded as a `publish anomaly` child of its detect span. */
  publish(anomaly: CommittedAnomaly, channel: string, work: () => Promise<void>): Promise<void>;
  /** Ends the detect spans (idempotent). */
  end(): void;
}

export const NO_DETECTIONS: Detections = {
  recordCommit: () => undefined,
  publish: (_anomaly, _channel, work) => work(),
  end: () => undefined,
};

const keyOf = (a: { detectorId: string; detectorVersion: number; offset: bigint }) => `${a.detectorId}@${a.detectorVersion}#${a.offset}`;

class DetectionSpans implements Detections {
  private readonly spans = new Map<string, Span>();
  private ended = false;

  constructor(stream: { id: string; name: string }, anomalies: readonly DetectedAnomaly[], startTime: number) {
    const t = tracer();
    for (const a of anomalies) {
      const key = keyOf(a);
      if (this.spans.has(key)) continue;
      const attributes: Attributes = {
        'vigil.stream.id': stream.id,
        'vigil.stream.name': stream.name,
        'vigil.detector.id': a.detectorId,
        'vigil.detector.version': a.detectorVersion,
        'vigil.anomaly.severity': a.severity,
        'vigil.anomaly.score': a.score,
        'vigil.anomaly.shadow': a.shadow,
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': a.topic,
        'messaging.destination.partition.id': String(a.partition),
        'messaging.kafka.offset': Number(a.offset),
      };
      this.spans.set(key, t.startSpan('detect', { kind: SpanKind.CONSUMER, startTime, attributes }, contextOf(a.traceparent)));
    }
  }

  private child(parent: Span, name: string, startTime: number, attributes: Attributes): Span {
    return tracer().startSpan(name, { kind: SpanKind.INTERNAL, startTime, attributes }, trace.setSpan(ROOT_CONTEXT, parent));
  }

  recordCommit(startTime: number, outcome: CommitOutcome): void {
    const end = nowMs();
    const attributes = { 'db.system.name': 'postgresql', 'db.operation.name': 'transaction' };
    if ('committed' in outcome) {
      const created = new Map(outcome.committed.map((a) => [keyOf(a), a.id]));
      for (const [key, span] of this.spans) {
        this.child(span, 'commit', startTime, attributes).end(end);
        const id = created.get(key);
        // Not created: the row existed already (the event was processed before, e.g. after a crash).
        span.setAttributes(id ? { 'vigil.anomaly.id': id } : { 'vigil.anomaly.duplicate': true });
      }
      return;
    }
    for (const span of this.spans.values()) {
      const commit = this.child(span, 'commit', startTime, attributes);
      if ((outcome.failed as Error | undefined)?.name === 'ReplayedError') {
        // Not a failure: the partition was replayed meanwhile and the batch is dropped, to be read again.
        commit.addEvent('batch dropped: partition replayed', undefined, end);
        span.setAttribute('vigil.batch.dropped', true);
      } else {
        fail(commit, outcome.failed);
        fail(span, outcome.failed);
      }
      commit.end(end);
    }
  }

  async publish(anomaly: CommittedAnomaly, channel: string, work: () => Promise<void>): Promise<void> {
    const parent = this.spans.get(keyOf(anomaly));
    if (!parent) return work();
    const span = this.child(parent, 'publish anomaly', nowMs(), {
      'messaging.system': 'redis',
      'messaging.operation.type': 'send',
      'messaging.destination.name': channel,
      'vigil.anomaly.id': anomaly.id,
    });
    try {
      await work();
    } catch (error) {
      fail(span, error);
      throw error;
    } finally {
      // Started at an explicit time: ended on the same clock (the SDK would use Date.now(), whole ms, and could end it before it began).
      span.end(nowMs());
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const end = nowMs();
    for (const span of this.spans.values()) span.end(end);
  }
}

/**
 * Starts a `detect` span per anomaly of a batch (from `startTime`, epoch ms,
 * when the batch began), each a child of its event's traceparent, or a new
 * trace when the event carried none. No anomalies: no spans, no cost.
 */
export function traceDetections(stream: { id: string; name: string }, anomalies: readonly DetectedAnomaly[], startTime: number): Detections {
  return anomalies.length === 0 ? NO_DETECTIONS : new DetectionSpans(stream, anomalies, startTime);
}

// ---------- runbook steps ----------

export interface StepInfo {
  executionId: string;
  runbook: string;
  index: number;
  action: string;
  attempt: number;
  incidentId: string | null;
}

/**
 * Runs one attempt of a runbook step in a `runbook step` span, a child of
 * `traceparent` (the incident's first anomaly's, which the caller looked up)
 * when there is one, else a trace of its own; the execution id is an
 * attribute either way. A failed attempt also counts in
 * vigil_runbook_step_failures.
 */
export async function traceRunbookStep<T>(traceparent: string | null, step: StepInfo, work: () => Promise<T>): Promise<T> {
  const parent = contextOf(traceparent);
  const span = tracer().startSpan(
    'runbook step',
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'vigil.execution.id': step.executionId,
        'vigil.runbook.name': step.runbook,
        'vigil.step.index': step.index,
        'vigil.step.action': step.action,
        'vigil.step.attempt': step.attempt,
        ...(step.incidentId ? { 'vigil.incident.id': step.incidentId } : {}),
      },
    },
    parent,
  );
  try {
    return await work();
  } catch (error) {
    fail(span, error);
    recordStepFailure(step.action);
    throw error;
  } finally {
    span.end();
  }
}
