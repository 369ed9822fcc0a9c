/** The console's GraphQL documents: every figure on its pages comes from the public schema. */

export const ANOMALY_FIELDS = /* GraphQL */ `
  fragment ConsoleAnomaly on Anomaly {
    id cursor detectedAt eventTime seriesKey field value expected lower upper score severity explanation label
    detectorVersion traceId
    source { topic partition offset key timestamp }
    detector { id name }
    stream { id name schemaVersion }
    incident { id title }
    silence { id reason endsAt }
  }
`;

const EXECUTION_FIELDS = /* GraphQL */ `
  fragment ConsoleExecution on RunbookExecution {
    id status requestedBy approvedBy createdAt finishedAt verified
    runbook { id name requiresApproval allowSelfApproval }
    steps { index action status attempts error startedAt finishedAt }
  }
`;

export const VIEWER = /* GraphQL */ `{ viewer { role apiKey { id name } } }`;

export const OVERVIEW = /* GraphQL */ `
  query Overview {
    streams(first: 100) {
      edges { node { id name topic status partitions schemaVersion keyField valueFields
        health { ingestionLag eventsPerSecond errorRate deadLetters canaryLatencySeconds freshnessSeconds lastEventAt } } }
    }
    health { status components { name status detail } }
  }
`;

export const OPEN_INCIDENTS = /* GraphQL */ `
  query OpenIncidents($after: String) {
    incidents(first: 100, after: $after, filter: { status: [OPEN, ACKNOWLEDGED] }) {
      edges { node { id title status severity openedAt resolvedAt anomalyCount stream { id name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const RECENT_ANOMALIES = /* GraphQL */ `
  query RecentAnomalies($filter: AnomalyFilter, $after: String) {
    anomalies(first: 100, after: $after, filter: $filter) {
      edges { node { ...ConsoleAnomaly } }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${ANOMALY_FIELDS}
`;

export const LIVE_ANOMALIES = /* GraphQL */ `
  subscription LiveAnomalies($filter: AnomalyFilter, $after: String) {
    anomalies(filter: $filter, after: $after) { ...ConsoleAnomaly }
  }
  ${ANOMALY_FIELDS}
`;

export const STREAM_PAGE = /* GraphQL */ `
  query StreamPage($id: ID!) {
    stream(id: $id) {
      id name topic status partitions schemaVersion keyField valueFields
      health { ingestionLag eventsPerSecond errorRate deadLetters canaryLatencySeconds freshnessSeconds lastEventAt workers { id partitions } }
      detectors { id name field kind mode version params drifting severity stats { anomalies truePositives falsePositives precision } }
      slas { id name objective threshold windowSeconds state { met current evaluatedAt } }
    }
    detectorKinds { kind settings { name description accepts hasDefault default } }
    deadLetters(streamId: $id, first: 50) {
      edges { node { id reason receivedAt reprocessedAt payload source { topic partition offset key timestamp } } }
    }
  }
`;

export const SERIES_POINTS = /* GraphQL */ `
  query SeriesPoints($detectorId: ID!, $seriesKey: String, $last: Int) {
    seriesPoints(detectorId: $detectorId, seriesKey: $seriesKey, last: $last) { at value expected lower upper anomalous }
  }
`;

/** The series a keyed stream's chart opens on: the one of the detector's newest anomaly. */
export const NEWEST_ANOMALY_SERIES = /* GraphQL */ `
  query NewestAnomalySeries($filter: AnomalyFilter) {
    anomalies(first: 1, filter: $filter, orderBy: NEWEST_FIRST) { edges { node { id seriesKey } } }
  }
`;

export const LIVE_STREAM_HEALTH = /* GraphQL */ `
  subscription LiveStreamHealth($streamId: ID) {
    streamHealth(streamId: $streamId) {
      ingestionLag eventsPerSecond errorRate deadLetters canaryLatencySeconds freshnessSeconds lastEventAt stream { id }
    }
  }
`;

export const INCIDENTS = /* GraphQL */ `
  query Incidents($filter: IncidentFilter, $after: String) {
    incidents(first: 100, after: $after, filter: $filter) {
      edges { node { id title status severity openedAt resolvedAt anomalyCount stream { id name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const STREAM_NAMES = /* GraphQL */ `{ streams(first: 100) { edges { node { id name } } } }`;

export const INCIDENT_PAGE = /* GraphQL */ `
  query IncidentPage($id: ID!) {
    incident(id: $id) {
      id title status severity openedAt acknowledgedAt resolvedAt anomalyCount stream { id name }
      timeline { at kind message actor }
      anomalies(first: 20) { edges { node { ...ConsoleAnomaly } } }
      executions { ...ConsoleExecution }
    }
  }
  ${ANOMALY_FIELDS}
  ${EXECUTION_FIELDS}
`;

export const LIVE_INCIDENT = /* GraphQL */ `
  subscription LiveIncident($filter: IncidentFilter) { incidentUpdates(filter: $filter) { id cursor status } }
`;

export const LIVE_EXECUTIONS = /* GraphQL */ `
  subscription LiveExecutions { executionUpdates { id cursor status incident { id } } }
`;

export const LINEAGE = /* GraphQL */ `
  query Lineage($id: ID!) { lineage(anomalyId: $id) { schemaVersion detectorVersion { kind } } }
`;

export const RUNBOOKS = /* GraphQL */ `{ runbooks { id name requiresApproval } }`;

export const POSTMORTEM = /* GraphQL */ `
  query Postmortem($id: ID!) {
    postmortem(incidentId: $id) {
      summary startedAt resolvedAt durationSeconds anomalyCount seriesAffected remediationVerified openQuestions markdown
      timeline { at source message actor }
      firstAnomaly { ...ConsoleAnomaly }
      remediation { ...ConsoleExecution }
      incident { id title severity stream { id name } }
    }
  }
  ${ANOMALY_FIELDS}
  ${EXECUTION_FIELDS}
`;

export const MUTATIONS = {
  acknowledge: `mutation($id: ID!) { acknowledgeIncident(id: $id) { id status } }`,
  resolve: `mutation($id: ID!) { resolveIncident(id: $id) { id status } }`,
  label: `mutation($id: ID!, $label: AnomalyLabel!) { labelAnomaly(id: $id, label: $label) { id label } }`,
  approve: `mutation($id: ID!) { approveExecution(id: $id) { id status approvedBy } }`,
  cancel: `mutation($id: ID!) { cancelExecution(id: $id) { id status } }`,
  trigger: `mutation($runbookId: ID!, $incidentId: ID) { triggerRunbook(runbookId: $runbookId, incidentId: $incidentId) { id status } }`,
  pause: `mutation($id: ID!) { pauseStream(id: $id) { id status } }`,
  resume: `mutation($id: ID!) { resumeStream(id: $id) { id status } }`,
  replay: `mutation($input: ReplayInput!) { replayStream(input: $input) { fromOffsets } }`,
  reprocess: `mutation($ids: [ID!]!) { reprocessDeadLetters(ids: $ids) }`,
  silence: `mutation($input: CreateSilenceInput!) { createSilence(input: $input) { id } }`,
  endSilence: `mutation($id: ID!) { endSilence(id: $id) { id } }`,
} as const;

/** Silences holding or to come, of one stream or of all. */
export const SILENCES = /* GraphQL */ `
  query Silences($streamId: ID) {
    silences(streamId: $streamId, first: 100) {
      edges { node { id stream { id name } detector { id name } seriesKey startsAt endsAt reason createdBy active } }
    }
  }
`;
