import pg from 'pg';
import { newId } from '../../src/core/ids.ts';

/**
 * The API bench's data set, written straight through node-postgres: multi-row
 * INSERTs of arrays (`unnest`) in batches, about 20 times faster than a row
 * per statement. Ids are time-ordered like the service's own (core/ids.ts),
 * with the anomaly's detection time as their time, so id order is time order.
 */
export interface SeedPlan {
  streams: number;
  incidents: number;
  anomaliesPerIncident: number;
  anomalies: number;
  auditEntries: number;
  /** Anomalies are spread over this many days, ending at `end`. */
  days: number;
  end: number;
}

export interface Seeded {
  streamIds: string[];
  /** An anomaly inside an incident that has an execution: the lineage query's subject. */
  lineageAnomalyId: string;
}

const BATCH = 20_000;

export async function seed(client: pg.Client, plan: SeedPlan, progress: (message: string) => void): Promise<Seeded> {
  const start = plan.end - plan.days * 86_400_000;
  const streamIds = Array.from({ length: plan.streams }, (_, i) => newId('Stream', start - 1000 + i));
  const detectorIds = streamIds.map((_, i) => newId('Detector', start - 500 + i));
  await client.query(
    `INSERT INTO "Stream" (id, name, topic, "valueFields", partitions, "retentionDays")
     SELECT id, 'bench-' || n, 'bench-' || n, ARRAY['latency_ms'], 3, 30 FROM unnest($1::text[]) WITH ORDINALITY AS s(id, n)`,
    [streamIds],
  );
  await client.query(
    `INSERT INTO "StreamSchemaVersion" ("streamId", version, schema, "createdBy") SELECT id, 1, '{"type":"object"}', 'bench' FROM unnest($1::text[]) AS s(id)`,
    [streamIds],
  );
  await client.query(
    `INSERT INTO "Detector" (id, "streamId", name, field) SELECT d, s, 'latency-' || n, 'latency_ms' FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(d, s, n)`,
    [detectorIds, streamIds],
  );
  await client.query(
    `INSERT INTO "DetectorVersion" ("detectorId", version, kind, params, mode, severity, "createdBy")
     SELECT d, 1, 'THRESHOLD', '{"max":500}', 'ACTIVE', 'WARNING', 'bench' FROM unnest($1::text[]) AS x(d)`,
    [detectorIds],
  );
  const runbookId = newId('Runbook', start - 100);
  await client.query(
    `INSERT INTO "Runbook" (id, name, "triggerStreamId", "minSeverity", steps, "requiresApproval", "cooldownSeconds")
     VALUES ($1, 'bench-runbook', $2, 'WARNING', '[{"action":"NOTIFY","params":{}},{"action":"SCALE","params":{"target":"web","replicas":4}}]', false, 300)`,
    [runbookId, streamIds[0]],
  );

  // Incidents, evenly over the period; each has a timeline of three entries and one execution of two steps.
  const incidentTimes = Array.from({ length: plan.incidents }, (_, k) => start + Math.floor(((k + 0.5) * (plan.end - start)) / plan.incidents));
  const incidentIds = incidentTimes.map((t) => newId('Incident', t));
  const incidentStreams = incidentIds.map((_, k) => streamIds[k % plan.streams]!);
  await client.query(
    `INSERT INTO "Incident" (id, title, status, severity, "streamId", "groupKey", "anomalyCount", "openedAt", "lastAnomalyAt", "lastSeenAt")
     SELECT id, 'latency on bench-' || n, 'OPEN', 'WARNING', s, s || ':' || n, $4, t, t, t
     FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS x(id, s, t, n)`,
    [incidentIds, incidentStreams, incidentTimes.map((t) => new Date(t)), plan.anomaliesPerIncident],
  );
  await client.query(
    `INSERT INTO "IncidentEvent" ("incidentId", at, kind, message, actor)
     SELECT id, t + (k || ' seconds')::interval, (ARRAY['OPENED','JOINED','ACKNOWLEDGED'])[k], 'entry ' || k, CASE WHEN k = 3 THEN 'oncall' END
     FROM unnest($1::text[], $2::timestamptz[]) AS x(id, t), generate_series(1, 3) AS k ORDER BY id, k`,
    [incidentIds, incidentTimes.map((t) => new Date(t))],
  );
  const executionIds = incidentTimes.map((t) => newId('RunbookExecution', t + 5000));
  await client.query(
    `INSERT INTO "RunbookExecution" (id, "runbookId", "incidentId", status, "requestedBy", "createdAt", "finishedAt", "enqueuedAt")
     SELECT e, $3, i, 'SUCCEEDED', 'auto', now(), now(), now() FROM unnest($1::text[], $2::text[]) AS x(e, i)`,
    [executionIds, incidentIds, runbookId],
  );
  await client.query(
    `INSERT INTO "StepExecution" ("executionId", index, action, params, status, attempts, output)
     SELECT e, k, (ARRAY['NOTIFY','SCALE'])[k + 1]::"RunbookAction", '{}', 'SUCCEEDED', 1, '{"ok":true}'
     FROM unnest($1::text[]) AS x(e), generate_series(0, 1) AS k`,
    [executionIds],
  );
  progress(`seeded ${plan.streams} streams, ${plan.incidents} incidents with timelines and executions`);

  // Anomalies: the incidents' own (each incident's right after it opened), the rest spread over the period.
  const incidentAnomalies = plan.incidents * plan.anomaliesPerIncident;
  let lineageAnomalyId = '';
  let written = 0;
  for (let from = 0; from < plan.anomalies; from += BATCH) {
    const count = Math.min(BATCH, plan.anomalies - from);
    const ids: string[] = [];
    const streams: string[] = [];
    const detectors: string[] = [];
    const incidents: (string | null)[] = [];
    const times: Date[] = [];
    for (let i = from; i < from + count; i++) {
      let time: number;
      let streamIndex: number;
      let incident: string | null = null;
      if (i < incidentAnomalies) {
        const k = Math.floor(i / plan.anomaliesPerIncident);
        time = incidentTimes[k]! + (i % plan.anomaliesPerIncident) * 1000;
        streamIndex = k % plan.streams;
        incident = incidentIds[k]!;
      } else {
        time = start + Math.floor(((i - incidentAnomalies + 0.5) * (plan.end - start)) / (plan.anomalies - incidentAnomalies));
        streamIndex = i % plan.streams;
      }
      const id = newId('Anomaly', time);
      if (i === Math.floor(incidentAnomalies / 2)) lineageAnomalyId = id;
      ids.push(id);
      streams.push(streamIds[streamIndex]!);
      detectors.push(detectorIds[streamIndex]!);
      incidents.push(incident);
      times.push(new Date(time));
    }
    await client.query(
      `INSERT INTO "Anomaly" (id, "streamId", "detectorId", "detectorVersion", "seriesKey", field, value, score, upper, severity, shadow,
                              "eventTime", "detectedAt", explanation, topic, partition, "offset", "eventTimestamp", "schemaVersion", "incidentId")
       SELECT id, s, d, 1, 'web-' || (o % 50), 'latency_ms', 500 + (o % 1000), 1 + (o % 7), 500, 'WARNING', false,
              t, t, 'value above the maximum 500', 'bench', 0, $6::bigint + o, t, 1, i
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY AS x(id, s, d, i, t, o)`,
      [ids, streams, detectors, incidents, times, from],
    );
    written += count;
    if (written % 200_000 === 0 || written === plan.anomalies) progress(`seeded ${written.toLocaleString('en-US')} anomalies`);
  }

  // An audit log to page through: entries as the service writes them, hashes made up (the chain is not verified here).
  await client.query(
    `INSERT INTO "AuditEntry" (id, at, actor, action, target, detail, outcome, "prevHash", hash, format)
     SELECT id, to_timestamp(t / 1000.0), 'bench (key_bench)', 'acknowledgeIncident', 'inc_' || n, json_build_object('args', json_build_object('note', 'on it ' || n)),
            'ALLOWED', md5(n::text) || md5((n + 1)::text), md5((n + 2)::text) || md5((n + 3)::text), 2
     FROM unnest($1::text[], $2::float8[]) WITH ORDINALITY AS x(id, t, n)`,
    (() => {
      const times = Array.from({ length: plan.auditEntries }, (_, n) => start + Math.floor(((n + 0.5) * (plan.end - start)) / plan.auditEntries));
      return [times.map((t) => newId('AuditEntry', t)), times];
    })(),
  );
  await client.query('ANALYZE');
  progress(`seeded ${plan.auditEntries} audit entries; analyzed`);
  return { streamIds, lineageAnomalyId };
}
