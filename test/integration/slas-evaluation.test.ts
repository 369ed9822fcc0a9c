import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthService } from '../../src/services/health.ts';
import { KafkajsTransport } from '../../src/stream/kafkajs-transport.ts';
import type { Worker } from '../../src/stream/worker-options.ts';
import { SlaEvaluator } from '../../src/workflows/sla-evaluation.ts';
import { uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { freePort, waitFor } from '../support/processes.ts';
import { registerRunbook, waitForExecution } from '../support/runbooks.ts';

/**
 * SLA evaluation end to end: a worker with its workflows (the scheduled
 * evaluate-slas job, every 250 ms here) over real Kafka, Redis and
 * PostgreSQL; the SLA's state, anomaly, lineage and incident read through the API.
 */
const prefix = uniqueName('slae');
let h: Harness;
let worker: Worker;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: `${prefix}-group` });
  worker = await startTestWorker(h, {
    streams: [`${prefix}*`],
    group: `${prefix}-group`,
    workflows: { slaEvaluationMs: 250 },
    // Counts reach Redis every 200 ms rather than 2 s: FRESHNESS is judged on them, here to 2 s.
    statsIntervalMs: 200,
  });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

async function setUpStream(): Promise<{ id: string; name: string; topic: string }> {
  const name = `${prefix}-${uniqueName('s')}`;
  const { registerStream } = await h.admin.request<{ registerStream: { id: string; name: string; topic: string } }>(REGISTER_STREAM, {
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 1 },
  });
  return registerStream;
}

async function registerSla(input: Record<string, unknown>): Promise<{ id: string; name: string }> {
  const { registerSla } = await h.admin.request<{ registerSla: { id: string; name: string } }>(
    `mutation($input: RegisterSlaInput!) { registerSla(input: $input) { id name } }`,
    { input: { name: uniqueName('sla'), ...input } },
  );
  return registerSla;
}

type SlaState = { met: boolean; current: number | null; evaluatedAt: string | null };

async function stateOf(streamId: string, slaId: string): Promise<SlaState> {
  const { slas } = await h.client(h.secrets.VIEWER).request<{ slas: { id: string; state: SlaState }[] }>(
    `query($s: ID) { slas(streamId: $s) { id state { met current evaluatedAt } } }`,
    { s: streamId },
  );
  const sla = slas.find((s) => s.id === slaId);
  if (!sla) throw new Error(`SLA ${slaId} not listed`);
  return sla.state;
}

/** Waits for an evaluation newer than `after` whose state passes `accept`. */
function evaluatedSince(streamId: string, slaId: string, after: number, accept: (s: SlaState) => boolean, what: string): Promise<SlaState> {
  let last: SlaState | undefined;
  return waitFor(
    async () => {
      last = await stateOf(streamId, slaId);
      return last.evaluatedAt !== null && Date.parse(last.evaluatedAt) > after && accept(last) ? last : undefined;
    },
    30_000,
    () => `${what}; last state ${JSON.stringify(last)}`,
  );
}

const good = () => ({ key: 'web-1', value: JSON.stringify({ host: 'web-1', latency_ms: 40, at: new Date().toISOString() }) });

/** One good event every 200 ms until stopped. */
function keepSending(topic: string): () => void {
  const timer = setInterval(() => void h.runtime.services.ports.kafka.produce(topic, [good()]).catch(() => undefined), 200);
  return () => clearInterval(timer);
}

const INCIDENTS = `query($f: IncidentFilter) { incidents(filter: $f) { edges { node { id status title timeline { kind message actor } } } } }`;
type IncidentView = { id: string; status: string; title: string; timeline: { kind: string; message: string; actor: string | null }[] };

async function incidentsOf(streamId: string): Promise<IncidentView[]> {
  const { incidents } = await h.client(h.secrets.VIEWER).request<{ incidents: { edges: { node: IncidentView }[] } }>(INCIDENTS, { f: { streamId } });
  return incidents.edges.map((e) => e.node);
}

const ANOMALIES = `query($f: AnomalyFilter) { anomalies(filter: $f) { edges { node {
  id field value lower upper severity explanation detector { name } sla { id name } incident { id status }
} } } }`;
type AnomalyView = {
  id: string;
  field: string;
  value: number;
  lower: number | null;
  upper: number | null;
  severity: string;
  explanation: string;
  detector: { name: string };
  sla: { id: string; name: string } | null;
  incident: { id: string; status: string } | null;
};

async function anomaliesOf(streamId: string): Promise<AnomalyView[]> {
  const { anomalies } = await h.client(h.secrets.VIEWER).request<{ anomalies: { edges: { node: AnomalyView }[] } }>(ANOMALIES, { f: { streamId } });
  return anomalies.edges.map((e) => e.node);
}

const LINEAGE = `query($id: ID!) { lineage(anomalyId: $id) {
  sla { id name objective threshold } detector { name } detectorVersion { kind mode } event { topic partition }
  incident { id status } executions { status runbook { id } }
} }`;

describe('SLA evaluation', () => {
  it('A FRESHNESS SLA breaches when its stream goes silent and recovers when events return', async () => {
    const stream = await setUpStream();
    let stop = keepSending(stream.topic);
    try {
      // Events are flowing (the worker has joined and counted some) before the SLA exists.
      await waitFor(
        async () => {
          const { lastEventAt } = await h.runtime.services.stats.window(stream.id, 1);
          return lastEventAt !== null && Date.now() - lastEventAt.getTime() < 1000;
        },
        30_000,
        () => 'the worker has not counted the events',
      );
      const registeredAt = Date.now();
      const sla = await registerSla({ streamId: stream.id, objective: 'FRESHNESS', threshold: 2, windowSeconds: 60, severity: 'CRITICAL' });

      // Events flow: met, evaluation after evaluation.
      const met = await evaluatedSince(stream.id, sla.id, registeredAt + 1000, (s) => s.met, 'not met while events flow');
      expect(met.current).toBeLessThan(2);
      expect(await anomaliesOf(stream.id)).toEqual([]);

      // Silence: breached.
      stop();
      const silentAt = Date.now();
      const breached = await evaluatedSince(stream.id, sla.id, silentAt, (s) => !s.met, 'not breached after the stream went silent');
      expect(breached.current).toBeGreaterThan(2);
      // Not before 2 s of silence (less the up to 200 ms since the last event sent).
      expect(Date.parse(breached.evaluatedAt!)).toBeGreaterThan(silentAt + 1700);

      const [anomaly, ...more] = await anomaliesOf(stream.id);
      expect(more).toEqual([]);
      expect(anomaly).toMatchObject({
        field: 'freshnessSeconds',
        upper: 2,
        lower: null,
        severity: 'CRITICAL',
        detector: { name: `sla:${sla.name}` },
        sla: { id: sla.id, name: sla.name },
        incident: { status: 'OPEN' },
      });
      expect(anomaly!.value).toBeGreaterThan(2);
      expect(anomaly!.explanation).toMatch(
        new RegExp(`^no event on stream ${stream.name} for [0-9.]+ s \\(SLA '${sla.name}': at most 2 s without an event\\)$`),
      );
      const { lineage } = await h.client(h.secrets.VIEWER).request<{ lineage: Record<string, unknown> }>(LINEAGE, { id: anomaly!.id });
      expect(lineage).toMatchObject({
        sla: { id: sla.id, name: sla.name, objective: 'FRESHNESS', threshold: 2 },
        detector: { name: `sla:${sla.name}` },
        detectorVersion: { kind: 'THRESHOLD', mode: 'DISABLED' },
        event: { topic: stream.topic, partition: -1 },
        incident: { id: anomaly!.incident!.id, status: 'OPEN' },
      });
      const [incident] = await incidentsOf(stream.id);
      expect(incident).toMatchObject({ id: anomaly!.incident!.id, status: 'OPEN' });
      expect(incident!.timeline).toEqual([{ kind: 'OPENED', message: `opened by ${anomaly!.explanation}`, actor: null }]);

      // Still silent: still breached, and nothing more is written.
      await evaluatedSince(stream.id, sla.id, Date.now(), (s) => !s.met, 'not re-evaluated while silent');
      expect(await anomaliesOf(stream.id)).toHaveLength(1);

      // Events return: met again, and the incident resolves.
      const backAt = Date.now();
      stop = keepSending(stream.topic);
      const recovered = await evaluatedSince(stream.id, sla.id, backAt, (s) => s.met, 'not met again after events returned');
      expect(recovered.current).toBeLessThanOrEqual(2);
      const [after] = await incidentsOf(stream.id);
      expect(after).toMatchObject({ id: incident!.id, status: 'RESOLVED' });
      expect(after!.timeline.at(-1)).toMatchObject({ kind: 'SLA_MET', actor: 'vigil' });
      expect(after!.timeline.at(-1)!.message).toMatch(new RegExp(`^SLA met again: last event on stream ${stream.name} [0-9.]+ s ago`));
      expect(await anomaliesOf(stream.id)).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it('a COMPLETENESS SLA breaches on poison events, calls the stream\'s runbooks, and recovers as valid events dilute them', async () => {
    const stream = await setUpStream();
    const runbook = await registerRunbook(h, {
      trigger: { streamId: stream.id },
      requiresApproval: true,
      steps: [{ action: 'NOTIFY', params: { message: 'data quality' } }],
    });
    const registeredAt = Date.now();
    const sla = await registerSla({ streamId: stream.id, objective: 'COMPLETENESS', threshold: 0.9, windowSeconds: 60 });

    // No event in the window: nothing to judge, met.
    const idle = await evaluatedSince(stream.id, sla.id, registeredAt, () => true, 'never evaluated');
    expect(idle).toMatchObject({ met: true, current: null });

    // 10 valid events and 5 poison ones (malformed JSON, contract violations): 2/3 valid.
    const poison = [
      { key: 'web-1', value: '{"host": "web-1", "latency_ms": ' },
      { key: 'web-1', value: JSON.stringify({ host: 'web-1', latency_ms: 'slow' }) },
      { key: 'web-1', value: JSON.stringify({ host: 'web-1' }) },
      { key: 'web-1', value: 'not json' },
      { key: 'web-1', value: JSON.stringify({ latency_ms: 3 }) },
    ];
    await h.runtime.services.ports.kafka.produce(stream.topic, [...Array.from({ length: 10 }, good), ...poison]);
    const breached = await evaluatedSince(stream.id, sla.id, registeredAt, (s) => !s.met, 'not breached by poison');
    expect(breached.current).toBeLessThan(0.9);
    await evaluatedSince(stream.id, sla.id, registeredAt, (s) => s.current !== null && Math.abs(s.current - 10 / 15) < 1e-9, 'not 10 of 15');

    const [anomaly, ...more] = await anomaliesOf(stream.id);
    expect(more).toEqual([]);
    expect(anomaly).toMatchObject({ field: 'completeness', lower: 0.9, upper: null, severity: 'WARNING', sla: { id: sla.id } });
    expect(anomaly!.explanation).toMatch(new RegExp(`of events on stream ${stream.name} were valid over the last 1 min \\(\\d+ of \\d+\\) \\(SLA '${sla.name}': at least 90% valid\\)$`));
    const { lineage } = await h.client(h.secrets.VIEWER).request<{ lineage: { incident: { status: string }; executions: unknown[] } }>(LINEAGE, {
      id: anomaly!.id,
    });
    expect(lineage.incident.status).toBe('OPEN');
    expect(lineage.executions).toEqual([{ status: 'PENDING_APPROVAL', runbook: { id: runbook.id } }]);

    // 40 more valid events: 50 of 55 valid, above 90%.
    await h.runtime.services.ports.kafka.produce(stream.topic, Array.from({ length: 40 }, good));
    const recovered = await evaluatedSince(stream.id, sla.id, registeredAt, (s) => s.met, 'not met again');
    expect(recovered.current).toBeGreaterThanOrEqual(0.9);
    const [incident] = await incidentsOf(stream.id);
    expect(incident!.status).toBe('RESOLVED');
    expect(incident!.timeline.at(-1)!.message).toMatch(/^SLA met again: \d+(\.\d+)?% of events on stream .* were valid/);
  });

  it('a remediation is not verified while the SLA it answered is still breached, though no new anomaly came', async () => {
    const stream = await setUpStream();
    await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'NOTIFY', params: { verifyWithinSeconds: 1 } }] });
    const registeredAt = Date.now();
    const sla = await registerSla({ streamId: stream.id, objective: 'COMPLETENESS', threshold: 0.9, windowSeconds: 60 });
    // 2 valid events of 4, then nothing: the breach records one anomaly and stays (the window keeps them for 60 s).
    await h.runtime.services.ports.kafka.produce(stream.topic, [good(), good(), { key: 'web-1', value: 'not json' }, { key: 'web-1', value: '{}' }]);
    await evaluatedSince(stream.id, sla.id, registeredAt, (s) => !s.met, 'not breached by poison');
    const [anomaly] = await anomaliesOf(stream.id);
    const LINEAGE_EXECUTIONS = `query($id: ID!) { lineage(anomalyId: $id) { executions { id } } }`;
    const executionId = await waitFor(
      async () => {
        const { lineage } = await h.client(h.secrets.VIEWER).request<{ lineage: { executions: { id: string }[] } }>(LINEAGE_EXECUTIONS, { id: anomaly!.id });
        return lineage.executions[0]?.id;
      },
      30_000,
      () => 'the breach started no runbook',
    );

    const judged = await waitForExecution(h, executionId, (e) => e.verified !== null, 'verified or not', 30_000);
    expect(judged).toMatchObject({ status: 'SUCCEEDED', verified: false });
    expect(await anomaliesOf(stream.id)).toHaveLength(1);
    expect(await stateOf(stream.id, sla.id)).toMatchObject({ met: false });
    const [incident] = await incidentsOf(stream.id);
    expect(incident!.status).toBe('OPEN');
    const notVerified = incident!.timeline.find((e) => e.kind === 'NOT_VERIFIED');
    expect(notVerified?.message).toMatch(new RegExp(`did not help: SLA '${sla.name}' still breached; severity WARNING -> CRITICAL$`));
    expect(incident!.timeline.some((e) => e.kind === 'VERIFIED')).toBe(false);
  });

  it('an INGESTION_LAG SLA keeps its state while Kafka cannot be reached, rather than reading the lag as 0', async () => {
    // A stream no worker here consumes (outside this file's prefix): its lag is what was produced.
    const name = `unread-${uniqueName('s')}`;
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
      input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms'], partitions: 1 },
    });
    await h.runtime.services.ports.kafka.produce(stream.topic, Array.from({ length: 5 }, good));
    const sla = await registerSla({ streamId: stream.id, objective: 'INGESTION_LAG', threshold: 2, windowSeconds: 60 });
    const { services } = h.runtime;
    const log = services.ports.log.child({ component: 'test-sla' });
    const row = () => services.ports.db.sla.findUniqueOrThrow({ where: { id: sla.id }, include: { stream: true, detector: true } });

    expect(await new SlaEvaluator(services, log).evaluate(await row())).toBe('breached');
    expect(await stateOf(stream.id, sla.id)).toMatchObject({ met: false, current: 5 });

    // The same evaluation with a Kafka client that reaches no broker: it fails, and nothing changes.
    // Its connection errors are expected here: not logged.
    const unreachable = new KafkajsTransport([`127.0.0.1:${await freePort()}`], 'vigil-test-unreachable', log.child({}, { level: 'silent' }));
    try {
      const { db, redis, config } = services.ports;
      const health = new HealthService({ db, redis, kafka: unreachable, consumerGroup: config.consumerGroup, stats: services.stats });
      const blind = { ...services, health };
      await expect(new SlaEvaluator(blind, log).evaluate(await row())).rejects.toThrow();
      const summary = await new SlaEvaluator(blind, log).evaluateAll((streamName) => streamName === name);
      expect(summary).toMatchObject({ evaluated: 0, failed: 1, recovered: [] });
    } finally {
      await unreachable.close();
    }
    expect(await stateOf(stream.id, sla.id)).toMatchObject({ met: false, current: 5 });
    const [incident] = await incidentsOf(stream.id);
    expect(incident!.status).toBe('OPEN');
  }, 60_000);

  it('a breach whose incident is resolved by hand while the SLA is still broken is raised again, reopening the incident', async () => {
    const stream = await setUpStream();
    const registeredAt = Date.now();
    const sla = await registerSla({ streamId: stream.id, objective: 'COMPLETENESS', threshold: 0.9, windowSeconds: 60 });
    // 1 valid event of 3, then nothing: breached for the next minute.
    await h.runtime.services.ports.kafka.produce(stream.topic, [good(), { key: 'web-1', value: 'not json' }, { key: 'web-1', value: '{}' }]);
    await evaluatedSince(stream.id, sla.id, registeredAt, (s) => !s.met, 'not breached by poison');
    const [incident] = await incidentsOf(stream.id);
    expect(incident!.status).toBe('OPEN');

    await h.client(h.secrets.OPERATOR).request(`mutation($id: ID!) { resolveIncident(id: $id, note: "looks fine to me") { status } }`, { id: incident!.id });
    const reopened = await waitFor(
      async () => {
        const [again] = await incidentsOf(stream.id);
        return again?.status === 'OPEN' ? again : undefined;
      },
      30_000,
      () => 'the incident was not raised again while the SLA stayed breached',
    );
    expect(reopened.id).toBe(incident!.id);
    expect(reopened.timeline.map((e) => e.kind)).toEqual(['OPENED', 'RESOLVED', 'REOPENED', 'ANOMALY_JOINED']);
    expect(await incidentsOf(stream.id)).toHaveLength(1);
    expect((await anomaliesOf(stream.id)).map((a) => a.sla?.id)).toEqual([sla.id, sla.id]);
    // Still breached and now held by an open incident: nothing more is recorded.
    await evaluatedSince(stream.id, sla.id, Date.now(), (s) => !s.met, 'not re-evaluated');
    await evaluatedSince(stream.id, sla.id, Date.now(), (s) => !s.met, 'not re-evaluated');
    expect(await anomaliesOf(stream.id)).toHaveLength(2);
  });
  it('a breach during a silence is recorded with it and opens no incident; once the silence ends, a breach still on opens one', async () => {
    const stream = await setUpStream();
    const { createSilence: silence } = await h.client(h.secrets.OPERATOR).request<{ createSilence: { id: string } }>(
      `mutation($input: CreateSilenceInput!) { createSilence(input: $input) { id } }`,
      { input: { streamId: stream.id, endsAt: new Date(Date.now() + 3_600_000).toISOString(), reason: 'schema migration' } },
    );
    const registeredAt = Date.now();
    const sla = await registerSla({ streamId: stream.id, objective: 'COMPLETENESS', threshold: 0.9, windowSeconds: 60 });
    await h.runtime.services.ports.kafka.produce(stream.topic, [good(), { key: 'web-1', value: 'not json' }, { key: 'web-1', value: '{}' }]);
    await evaluatedSince(stream.id, sla.id, registeredAt, (s) => !s.met, 'not breached by poison');
    const silenced = await h.runtime.services.ports.db.anomaly.findMany({ where: { slaId: sla.id }, select: { silenceId: true, incidentId: true } });
    expect(silenced).toEqual([{ silenceId: silence.id, incidentId: null }]);
    // Still broken, but silenced: later evaluations raise nothing.
    await evaluatedSince(stream.id, sla.id, Date.now(), (s) => !s.met, 'not re-evaluated');
    await evaluatedSince(stream.id, sla.id, Date.now(), (s) => !s.met, 'not re-evaluated');
    expect(await incidentsOf(stream.id)).toEqual([]);
    expect(await h.runtime.services.ports.db.anomaly.count({ where: { slaId: sla.id } })).toBe(1);

    await h.client(h.secrets.OPERATOR).request(`mutation($id: ID!) { endSilence(id: $id) { id } }`, { id: silence.id });
    const [opened] = await waitFor(
      async () => {
        const incidents = await incidentsOf(stream.id);
        return incidents.length > 0 ? incidents : undefined;
      },
      30_000,
      () => 'no incident once the silence ended, though the SLA stayed breached',
    );
    expect(opened!.status).toBe('OPEN');
  });
});

