/**
 * The console's and the docs' main reads, each as the GraphQL document a
 * client sends and as the one hand-written SQL statement that returns the
 * same data (JSON built in PostgreSQL, as a careful hand-written endpoint
 * would). `count` reads how many top-level items an answer holds, so the two
 * are checked to agree before anything is timed.
 */
export interface BenchQuery {
  name: string;
  graphql: string;
  variables: Record<string, unknown>;
  sql: string;
  params: unknown[];
  count: (data: Record<string, unknown>) => number;
}

const edgesOf = (value: unknown) => ((value as { edges: unknown[] }).edges ?? []).length;

export function benchQueries(subject: { streamId: string; since: Date; lineageAnomalyId: string; auditAfter: string; auditAfterId: string }): BenchQuery[] {
  // The API lists newest first by default (docs/api.md, "Pagination and ordering"); each SQL returns the same rows in that order.
  return [
    {
      name: 'incidents page (100, nested lists)',
      graphql: `query IncidentsPage {
        incidents(first: 100) {
          edges { cursor node {
            id title status severity anomalyCount openedAt
            timeline { at kind message actor }
            executions { id status steps { index status } }
            anomalies(first: 20) { edges { node { id value score severity detectedAt seriesKey } } pageInfo { hasNextPage } }
          } }
          pageInfo { hasNextPage endCursor }
        }
      }`,
      variables: {},
      sql: `SELECT i.id, i.title, i.status, i.severity, i."anomalyCount", i."openedAt",
          (SELECT coalesce(json_agg(json_build_object('at', e.at, 'kind', e.kind, 'message', e.message, 'actor', e.actor) ORDER BY e.id), '[]')
             FROM "IncidentEvent" e WHERE e."incidentId" = i.id) AS timeline,
          (SELECT coalesce(json_agg(json_build_object('id', x.id, 'status', x.status, 'steps',
                    (SELECT coalesce(json_agg(json_build_object('index', s.index, 'status', s.status) ORDER BY s.index), '[]')
                       FROM "StepExecution" s WHERE s."executionId" = x.id)) ORDER BY x.id), '[]')
             FROM "RunbookExecution" x WHERE x."incidentId" = i.id) AS executions,
          (SELECT coalesce(json_agg(a ORDER BY a.id), '[]') FROM
             (SELECT id, value, score, severity, "detectedAt", "seriesKey" FROM "Anomaly" WHERE "incidentId" = i.id ORDER BY id DESC LIMIT 21) a) AS anomalies
        FROM "Incident" i ORDER BY i.id DESC LIMIT 101`,
      params: [],
      count: (data) => edgesOf(data.incidents),
    },
    {
      name: "an anomaly's lineage",
      graphql: `query Lineage($id: ID!) {
        lineage(anomalyId: $id) {
          anomaly { id value score severity explanation detectedAt }
          event { topic partition offset key timestamp }
          stream { id name }
          schemaVersion
          detector { id name kind }
          detectorVersion { version kind params mode }
          sla { id }
          incident { id title status }
          executions { id status steps { index action status } }
        }
      }`,
      variables: { id: subject.lineageAnomalyId },
      sql: `SELECT a.id, a.value, a.score, a.severity, a.explanation, a."detectedAt", a.topic, a.partition, a."offset"::text, a."eventKey", a."eventTimestamp",
          a."schemaVersion", s.id AS "streamId", s.name AS "streamName", d.id AS "detectorId", d.name AS "detectorName",
          v.version, v.kind, v.params, v.mode, a."slaId", i.id AS "incidentId", i.title, i.status,
          (SELECT coalesce(json_agg(json_build_object('id', x.id, 'status', x.status, 'steps',
                    (SELECT coalesce(json_agg(json_build_object('index', st.index, 'action', st.action, 'status', st.status) ORDER BY st.index), '[]')
                       FROM "StepExecution" st WHERE st."executionId" = x.id)) ORDER BY x.id), '[]')
             FROM "RunbookExecution" x WHERE x."incidentId" = a."incidentId") AS executions
        FROM "Anomaly" a
        JOIN "Stream" s ON s.id = a."streamId"
        JOIN "Detector" d ON d.id = a."detectorId"
        JOIN "DetectorVersion" v ON v."detectorId" = a."detectorId" AND v.version = a."detectorVersion"
        LEFT JOIN "Incident" i ON i.id = a."incidentId"
        WHERE a.id = $1`,
      params: [subject.lineageAnomalyId],
      count: (data) => (data.lineage ? 1 : 0),
    },
    {
      name: 'anomalies of a stream since a time (100)',
      graphql: `query StreamAnomalies($streamId: ID!, $since: DateTime!) {
        anomalies(filter: { streamId: $streamId, since: $since }, first: 100) {
          edges { cursor node { id seriesKey field value score expected lower upper severity eventTime detectedAt explanation } }
          pageInfo { hasNextPage endCursor }
        }
      }`,
      variables: { streamId: subject.streamId, since: subject.since.toISOString() },
      sql: `SELECT id, "seriesKey", field, value, score, expected, lower, upper, severity, "eventTime", "detectedAt", explanation
        FROM "Anomaly" WHERE "streamId" = $1 AND shadow = false AND "detectedAt" >= $2 ORDER BY id DESC LIMIT 101`,
      params: [subject.streamId, subject.since],
      count: (data) => edgesOf(data.anomalies),
    },
    {
      name: 'audit log page (100)',
      graphql: `query AuditPage($after: String) {
        auditLog(first: 100, after: $after) {
          edges { cursor node { id at actor action target outcome detail hash } }
          pageInfo { hasNextPage endCursor }
        }
      }`,
      variables: { after: subject.auditAfter },
      sql: `SELECT id, at, actor, action, target, outcome, detail, hash FROM "AuditEntry" WHERE id < $1 ORDER BY id DESC LIMIT 101`,
      params: [subject.auditAfterId],
      count: (data) => edgesOf(data.auditLog),
    },
  ];
}
