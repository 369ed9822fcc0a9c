import { randomBytes } from 'node:crypto';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { GraphQLClient } from 'graphql-request';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/stream/worker-options.ts';
import { startTelemetry, type Telemetry } from '../../src/telemetry/otel.ts';
import { uniqueName } from '../support/env.ts';
import { startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { waitFor } from '../support/processes.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { EVENT_BASE, firstExecutionOf, registerRunbook, streamWithThreshold, waitForExecution } from '../support/runbooks.ts';

/**
 * Telemetry end to end: the harness gateway serves GET /metrics, and a trace
 * runs from an HTTP caller's traceparent through publishEvents, Kafka, the
 * worker's detection, commit and pub/sub publish, to the runbook steps the
 * anomaly's incident started. Spans are caught by an in-memory exporter.
 */
const prefix = uniqueName('otel');
const group = `${prefix}-group`;
const spans = new InMemorySpanExporter();
let telemetry: Telemetry;
let h: Harness;
let worker: Worker;
let ws: Client;
let receiver: Receiver;

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: 'vigil-test', spanExporter: spans });
  h = await startHarness();
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, workflows: { stepBackoffMs: 100 } });
  ws = createClient({ url: h.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${h.secrets.VIEWER}` } });
  // The first attempt of the webhook fails (500), the retry succeeds.
  receiver = await startReceiver({ statuses: [500], then: 200 });
});
afterAll(async () => {
  await ws?.dispose();
  await receiver?.close();
  await worker?.stop();
  await h?.close();
  await telemetry?.shutdown();
});

// ---------- Prometheus text ----------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(): Promise<{ text: string; samples: Sample[]; contentType: string | null }> {
  const response = await fetch(`http://127.0.0.1:${h.gateway.port}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { text, samples: parsePrometheus(text), contentType: response.headers.get('content-type') };
}

/** The value of the one series of `name` whose labels include `labels` (undefined when absent). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

// ---------- helpers ----------

const PUBLISH = `mutation($s: ID!, $e: [JSON!]!) { publishEvents(streamId: $s, events: $e) { accepted rejected { index reason } } }`;

function latencyEvent(at: number, value: number) {
  return { host: 'web-1', latency_ms: value, at: new Date(EVENT_BASE + at * 1000).toISOString() };
}

/** Resolves with the first anomaly the subscription delivers for a stream. */
function nextAnomaly(streamId: string): { ready: Promise<void>; anomaly: Promise<{ id: string; traceId: string | null }> } {
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const anomaly = new Promise<{ id: string; traceId: string | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no anomaly arrived within 60 s')), 60_000);
    const unsubscribe = ws.subscribe(
      { query: `subscription($f: AnomalyFilter) { anomalies(filter: $f) { id traceId } }`, variables: { f: { streamId } } },
      {
        next: (message) => {
          if (message.errors) return reject(new Error(JSON.stringify(message.errors)));
          clearTimeout(timer);
          unsubscribe();
          resolve((message.data as { anomalies: { id: string; traceId: string | null } }).anomalies);
        },
        error: reject,
        complete: () => undefined,
      },
    );
    // The subscription is open once the gateway counts it.
    void waitFor(
      async () => (value((await scrape()).samples, 'vigil_open_subscriptions', { channel: 'vigil:anomalies' }) ?? 0) >= 1,
      10_000,
      () => 'the anomalies subscription was never counted as open',
    ).then(markReady, reject);
  });
  return { ready, anomaly };
}

const finished = (): ReadableSpan[] => spans.getFinishedSpans();
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('telemetry', () => {
  it('exposes the named series at GET /metrics, moving as events flow, and traces an event from the caller to its anomaly and runbook steps', async () => {
    const stream = await streamWithThreshold(h, prefix);
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      steps: [
        { action: 'WEBHOOK', params: { url: receiver.url } },
        { action: 'NOTIFY', params: { message: 'telemetry test' } },
      ],
    });
    const before = await scrape();
    expect(before.contentType).toMatch(/^text\/plain/);
    const labels = { stream: stream.name };
    expect(value(before.samples, 'vigil_events_total', { ...labels, outcome: 'valid' })).toBeUndefined();

    const live = nextAnomaly(stream.id);
    await live.ready;
    const opened = await scrape();
    expect(value(opened.samples, 'vigil_open_subscriptions', { channel: 'vigil:anomalies' })).toBeGreaterThanOrEqual(1);

    // The caller's own span: publishEvents must continue it.
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const operator = new GraphQLClient(h.url, {
      headers: { authorization: `Bearer ${h.secrets.OPERATOR}`, traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    const normal = Array.from({ length: 20 }, (_, i) => latencyEvent(i, 100 + i));
    const { publishEvents } = await operator.request<{ publishEvents: { accepted: number } }>(PUBLISH, {
      s: stream.id,
      e: [...normal, latencyEvent(20, 1500)],
    });
    expect(publishEvents.accepted).toBe(21);
    // A poison message straight to Kafka: a dead letter.
    await h.runtime.services.ports.kafka.produce(stream.topic, [{ key: 'web-1', value: '{"host": "web-1", "latency_ms": ' }]);

    const anomaly = await live.anomaly;
    expect(anomaly.traceId).toBe(traceId);
    await waitFor(
      async () => (await h.runtime.services.ports.db.consumerOffset.findFirst({ where: { groupId: group, topic: stream.topic } }))?.nextOffset === 22n,
      30_000,
      () => 'the worker never committed all 22 events',
    );
    const executionId = await firstExecutionOf(h, runbook.id);
    await waitForExecution(h, executionId, (e) => e.status === 'SUCCEEDED', 'SUCCEEDED');

    // ---- metrics: the named series exist and moved ----
    const after = await scrape();
    const m = (name: string, extra: Record<string, string> = {}) => value(after.samples, name, { ...labels, ...extra });
    expect(m('vigil_events_total', { outcome: 'valid' })).toBe(21);
    expect(m('vigil_events_total', { outcome: 'dead_letter' })).toBe(1);
    expect(m('vigil_dead_letters_total')).toBe(1);
    expect(m('vigil_anomalies_total')).toBe(1);
    expect(m('vigil_detection_latency_seconds_count')).toBe(1);
    expect(m('vigil_detection_latency_seconds_sum')).toBeGreaterThan(0);
    expect(m('vigil_batch_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(m('vigil_events_per_second')).toBeGreaterThan(0);
    expect(m('vigil_processing_error_rate')).toBeGreaterThan(0);
    expect(m('vigil_processing_errors_total', { stage: 'batch' })).toBe(0);
    // Everything produced was committed: no backlog on the stream's one partition.
    expect(m('vigil_ingestion_lag', { topic: stream.topic, partition: '0' })).toBe(0);
    const queue = after.samples.filter((s) => s.name === 'vigil_runbook_queue_depth' && s.labels.queue?.includes(group));
    expect(new Set(queue.map((s) => s.labels.state))).toEqual(new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed']));
    expect(value(after.samples, 'vigil_runbook_step_failures_total', { action: 'WEBHOOK' })).toBe(1);
    expect(value(after.samples, 'vigil_runbook_job_failures_total', { job: 'step' })).toBe(1);
    expect(after.text).toContain('# TYPE vigil_detection_latency_seconds histogram');

    // ---- the trace: caller -> publishEvents -> detect -> commit, publish anomaly; runbook steps ----
    const inTrace = () => finished().filter((s) => s.spanContext().traceId === traceId);
    await waitFor(
      async () => inTrace().filter((s) => s.name === 'runbook step').length >= 3,
      10_000,
      () => `spans in the trace: ${inTrace().map((s) => s.name).join(', ')}`,
    );
    const trace = inTrace();
    const publish = trace.find((s) => s.name === 'publishEvents');
    expect(publish).toBeDefined();
    expect(parentOf(publish!)).toBe(callerSpanId);
    expect(publish!.attributes).toMatchObject({ 'vigil.stream.id': stream.id, 'messaging.destination.name': stream.topic, 'messaging.batch.message_count': 21 });

    const detect = trace.find((s) => s.name === 'detect');
    expect(detect).toBeDefined();
    expect(parentOf(detect!)).toBe(publish!.spanContext().spanId);
    expect(detect!.attributes).toMatchObject({ 'vigil.anomaly.id': anomaly.id, 'vigil.detector.id': stream.detectorId, 'messaging.kafka.offset': 20 });
    // Only the event that became an anomaly has a span: the 20 normal ones have none.
    expect(trace.filter((s) => s.name === 'detect')).toHaveLength(1);

    const under = (name: string) => trace.filter((s) => s.name === name && parentOf(s) === detect!.spanContext().spanId);
    expect(under('commit')).toHaveLength(1);
    expect(under('publish anomaly')).toHaveLength(1);
    expect(under('publish anomaly')[0]!.attributes['vigil.anomaly.id']).toBe(anomaly.id);
    // Spans started at an explicit time end on the same clock: a real, positive duration, never clamped to 0.
    const nanos = ([seconds, ns]: [number, number]) => seconds * 1e9 + ns;
    for (const span of [detect!, ...under('commit'), ...under('publish anomaly')]) {
      expect(nanos(span.duration), `${span.name} duration`).toBeGreaterThan(0);
      expect(nanos(span.endTime)).toBeGreaterThan(nanos(span.startTime));
    }

    const steps = trace.filter((s) => s.name === 'runbook step');
    for (const step of steps) expect(step.attributes['vigil.execution.id']).toBe(executionId);
    expect(steps.map((s) => [s.attributes['vigil.step.action'], s.attributes['vigil.step.attempt'], s.status.code])).toEqual([
      ['WEBHOOK', 1, SpanStatusCode.ERROR],
      ['WEBHOOK', 2, SpanStatusCode.UNSET],
      ['NOTIFY', 1, SpanStatusCode.UNSET],
    ]);
  });

  it('reports the silences in force on /metrics, by stream, while they hold', async () => {
    const stream = await streamWithThreshold(h, prefix);
    const create = `mutation($input: CreateSilenceInput!) { createSilence(input: $input) { id } }`;
    const operator = h.client(h.secrets.OPERATOR);
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    const silences = await Promise.all(
      ['deploy', 'migration'].map(async (reason) => (await operator.request<{ createSilence: { id: string } }>(create, { input: { streamId: stream.id, endsAt: inAnHour, reason } })).createSilence.id),
    );
    // One to come, not in force yet.
    await operator.request(create, { input: { streamId: stream.id, startsAt: inAnHour, endsAt: new Date(Date.now() + 7_200_000).toISOString(), reason: 'later' } });
    expect(value((await scrape()).samples, 'vigil_silences_active', { stream: stream.name })).toBe(2);
    for (const id of silences) await operator.request(`mutation($id: ID!) { endSilence(id: $id) { id } }`, { id });
    expect(value((await scrape()).samples, 'vigil_silences_active', { stream: stream.name })).toBe(0);

    // A stream archived under a silence leaves the readings: its series reads 0, not its last count.
    const archived = await streamWithThreshold(h, `${prefix}-arch`);
    await operator.request(create, { input: { streamId: archived.id, endsAt: inAnHour, reason: 'deploy' } });
    expect(value((await scrape()).samples, 'vigil_silences_active', { stream: archived.name })).toBe(1);
    await h.admin.request(`mutation($id: ID!) { archiveStream(id: $id) { id } }`, { id: archived.id });
    expect(value((await scrape()).samples, 'vigil_silences_active', { stream: archived.name })).toBe(0);
  });
});
