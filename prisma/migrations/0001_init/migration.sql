-- Vigil initial schema. Mirrors prisma/schema.prisma (Prisma's naming: quoted
-- model and field names, TIMESTAMP(3), JSONB).

CREATE TYPE "Role" AS ENUM ('VIEWER', 'OPERATOR', 'ADMIN');
CREATE TYPE "Severity" AS ENUM ('INFO', 'WARNING', 'CRITICAL');
CREATE TYPE "StreamStatus" AS ENUM ('ACTIVE', 'PAUSED');
CREATE TYPE "DetectorMode" AS ENUM ('ACTIVE', 'SHADOW', 'DISABLED');
CREATE TYPE "DetectorKind" AS ENUM ('ZSCORE', 'MAD', 'EWMA', 'SEASONAL', 'THRESHOLD', 'FRESHNESS', 'ENSEMBLE');
CREATE TYPE "SlaObjective" AS ENUM ('FRESHNESS', 'INGESTION_LAG', 'ERROR_RATE', 'COMPLETENESS', 'ANOMALY_RATE');
CREATE TYPE "AnomalyLabel" AS ENUM ('TRUE_POSITIVE', 'FALSE_POSITIVE');
CREATE TYPE "IncidentStatus" AS ENUM ('OPEN', 'ACKNOWLEDGED', 'RESOLVED');
CREATE TYPE "RunbookAction" AS ENUM ('WEBHOOK', 'REPLAY', 'PAUSE_STREAM', 'RESUME_STREAM', 'SCALE', 'NOTIFY');
CREATE TYPE "ExecutionStatus" AS ENUM ('PENDING_APPROVAL', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

CREATE TABLE "Stream" (
  "id" TEXT PRIMARY KEY,
  "name" TEXT NOT NULL,
  "topic" TEXT NOT NULL,
  "keyField" TEXT,
  "timestampField" TEXT,
  "valueFields" TEXT[] NOT NULL,
  "partitions" INTEGER NOT NULL,
  "status" "StreamStatus" NOT NULL DEFAULT 'ACTIVE',
  "retentionDays" INTEGER NOT NULL,
  "schemaVersion" INTEGER NOT NULL DEFAULT 1,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "Stream_name_key" ON "Stream"("name");
CREATE UNIQUE INDEX "Stream_topic_key" ON "Stream"("topic");

CREATE TABLE "StreamSchemaVersion" (
  "streamId" TEXT NOT NULL REFERENCES "Stream"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "version" INTEGER NOT NULL,
  "schema" JSONB NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "createdBy" TEXT NOT NULL,
  PRIMARY KEY ("streamId", "version")
);

CREATE TABLE "Detector" (
  "id" TEXT PRIMARY KEY,
  "streamId" TEXT NOT NULL REFERENCES "Stream"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "name" TEXT NOT NULL,
  "field" TEXT NOT NULL,
  "currentVersion" INTEGER NOT NULL DEFAULT 1,
  "drifting" BOOLEAN NOT NULL DEFAULT false,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "Detector_streamId_name_key" ON "Detector"("streamId", "name");
CREATE INDEX "Detector_streamId_id_idx" ON "Detector"("streamId", "id");

CREATE TABLE "DetectorVersion" (
  "detectorId" TEXT NOT NULL REFERENCES "Detector"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "version" INTEGER NOT NULL,
  "kind" "DetectorKind" NOT NULL,
  "params" JSONB NOT NULL,
  "mode" "DetectorMode" NOT NULL,
  "severity" "Severity" NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "createdBy" TEXT NOT NULL,
  PRIMARY KEY ("detectorId", "version")
);

CREATE TABLE "Sla" (
  "id" TEXT PRIMARY KEY,
  "streamId" TEXT NOT NULL REFERENCES "Stream"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "name" TEXT NOT NULL,
  "objective" "SlaObjective" NOT NULL,
  "threshold" DOUBLE PRECISION NOT NULL,
  "windowSeconds" INTEGER NOT NULL,
  "severity" "Severity" NOT NULL,
  "met" BOOLEAN NOT NULL DEFAULT true,
  "current" DOUBLE PRECISION,
  "evaluatedAt" TIMESTAMP(3),
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "Sla_streamId_name_key" ON "Sla"("streamId", "name");

CREATE TABLE "Runbook" (
  "id" TEXT PRIMARY KEY,
  "name" TEXT NOT NULL,
  "triggerStreamId" TEXT REFERENCES "Stream"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "triggerDetectorId" TEXT REFERENCES "Detector"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "minSeverity" "Severity" NOT NULL,
  "steps" JSONB NOT NULL,
  "requiresApproval" BOOLEAN NOT NULL,
  "cooldownSeconds" INTEGER NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "Runbook_name_key" ON "Runbook"("name");

CREATE TABLE "Incident" (
  "id" TEXT PRIMARY KEY,
  "title" TEXT NOT NULL,
  "status" "IncidentStatus" NOT NULL DEFAULT 'OPEN',
  "severity" "Severity" NOT NULL,
  "streamId" TEXT NOT NULL REFERENCES "Stream"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "groupKey" TEXT NOT NULL,
  "anomalyCount" INTEGER NOT NULL DEFAULT 0,
  "openedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "acknowledgedAt" TIMESTAMP(3),
  "resolvedAt" TIMESTAMP(3),
  "lastAnomalyAt" TIMESTAMP(3)
);
CREATE INDEX "Incident_groupKey_status_idx" ON "Incident"("groupKey", "status");
CREATE INDEX "Incident_streamId_id_idx" ON "Incident"("streamId", "id");
CREATE INDEX "Incident_status_id_idx" ON "Incident"("status", "id");

CREATE TABLE "IncidentEvent" (
  "id" BIGSERIAL PRIMARY KEY,
  "incidentId" TEXT NOT NULL REFERENCES "Incident"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "kind" TEXT NOT NULL,
  "message" TEXT NOT NULL,
  "actor" TEXT
);
CREATE INDEX "IncidentEvent_incidentId_id_idx" ON "IncidentEvent"("incidentId", "id");

CREATE TABLE "Anomaly" (
  "id" TEXT PRIMARY KEY,
  "streamId" TEXT NOT NULL REFERENCES "Stream"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "detectorId" TEXT NOT NULL REFERENCES "Detector"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "detectorVersion" INTEGER NOT NULL,
  "seriesKey" TEXT,
  "field" TEXT NOT NULL,
  "value" DOUBLE PRECISION NOT NULL,
  "score" DOUBLE PRECISION NOT NULL,
  "expected" DOUBLE PRECISION,
  "lower" DOUBLE PRECISION,
  "upper" DOUBLE PRECISION,
  "severity" "Severity" NOT NULL,
  "shadow" BOOLEAN NOT NULL,
  "eventTime" TIMESTAMP(3) NOT NULL,
  "detectedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "explanation" TEXT NOT NULL,
  "topic" TEXT NOT NULL,
  "partition" INTEGER NOT NULL,
  "offset" BIGINT NOT NULL,
  "eventKey" TEXT,
  "eventTimestamp" TIMESTAMP(3) NOT NULL,
  "schemaVersion" INTEGER NOT NULL,
  "incidentId" TEXT REFERENCES "Incident"("id") ON DELETE SET NULL ON UPDATE CASCADE,
  "label" "AnomalyLabel",
  "labelNote" TEXT,
  "labelledBy" TEXT
);
CREATE UNIQUE INDEX "Anomaly_detectorId_detectorVersion_topic_partition_offset_key"
  ON "Anomaly"("detectorId", "detectorVersion", "topic", "partition", "offset");
CREATE INDEX "Anomaly_streamId_id_idx" ON "Anomaly"("streamId", "id");
CREATE INDEX "Anomaly_detectedAt_idx" ON "Anomaly"("detectedAt");
CREATE INDEX "Anomaly_incidentId_id_idx" ON "Anomaly"("incidentId", "id");

CREATE TABLE "RunbookExecution" (
  "id" TEXT PRIMARY KEY,
  "runbookId" TEXT NOT NULL REFERENCES "Runbook"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "incidentId" TEXT REFERENCES "Incident"("id") ON DELETE SET NULL ON UPDATE CASCADE,
  "status" "ExecutionStatus" NOT NULL,
  "requestedBy" TEXT NOT NULL,
  "approvedBy" TEXT,
  "verified" BOOLEAN,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "finishedAt" TIMESTAMP(3),
  "enqueuedAt" TIMESTAMP(3)
);
CREATE INDEX "RunbookExecution_status_id_idx" ON "RunbookExecution"("status", "id");
CREATE INDEX "RunbookExecution_runbookId_id_idx" ON "RunbookExecution"("runbookId", "id");
CREATE INDEX "RunbookExecution_incidentId_idx" ON "RunbookExecution"("incidentId");

CREATE TABLE "StepExecution" (
  "executionId" TEXT NOT NULL REFERENCES "RunbookExecution"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "index" INTEGER NOT NULL,
  "action" "RunbookAction" NOT NULL,
  "params" JSONB NOT NULL,
  "status" "ExecutionStatus" NOT NULL,
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "output" JSONB,
  "error" TEXT,
  "startedAt" TIMESTAMP(3),
  "finishedAt" TIMESTAMP(3),
  PRIMARY KEY ("executionId", "index")
);

CREATE TABLE "DeadLetter" (
  "id" TEXT PRIMARY KEY,
  "streamId" TEXT NOT NULL REFERENCES "Stream"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "topic" TEXT NOT NULL,
  "partition" INTEGER NOT NULL,
  "offset" BIGINT NOT NULL,
  "eventKey" TEXT,
  "eventTimestamp" TIMESTAMP(3) NOT NULL,
  "reason" TEXT NOT NULL,
  "payload" TEXT NOT NULL,
  "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "reprocessedAt" TIMESTAMP(3)
);
CREATE UNIQUE INDEX "DeadLetter_topic_partition_offset_key" ON "DeadLetter"("topic", "partition", "offset");
CREATE INDEX "DeadLetter_streamId_id_idx" ON "DeadLetter"("streamId", "id");
CREATE INDEX "DeadLetter_receivedAt_idx" ON "DeadLetter"("receivedAt");

CREATE TABLE "ConsumerOffset" (
  "groupId" TEXT NOT NULL,
  "topic" TEXT NOT NULL,
  "partition" INTEGER NOT NULL,
  "nextOffset" BIGINT NOT NULL,
  "updatedAt" TIMESTAMP(3) NOT NULL,
  PRIMARY KEY ("groupId", "topic", "partition")
);

CREATE TABLE "DetectorCheckpoint" (
  "detectorId" TEXT NOT NULL REFERENCES "Detector"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "version" INTEGER NOT NULL,
  "topic" TEXT NOT NULL,
  "partition" INTEGER NOT NULL,
  "nextOffset" BIGINT NOT NULL,
  "state" JSONB NOT NULL,
  "updatedAt" TIMESTAMP(3) NOT NULL,
  PRIMARY KEY ("detectorId", "version", "topic", "partition")
);

CREATE TABLE "ApiKey" (
  "id" TEXT PRIMARY KEY,
  "name" TEXT NOT NULL,
  "role" "Role" NOT NULL,
  "secretHash" TEXT NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "lastUsedAt" TIMESTAMP(3),
  "revokedAt" TIMESTAMP(3)
);
CREATE UNIQUE INDEX "ApiKey_secretHash_key" ON "ApiKey"("secretHash");

CREATE TABLE "AuditEntry" (
  "seq" BIGSERIAL PRIMARY KEY,
  "id" TEXT NOT NULL,
  "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "actor" TEXT NOT NULL,
  "action" TEXT NOT NULL,
  "target" TEXT NOT NULL,
  "detail" JSONB,
  "outcome" TEXT NOT NULL,
  "prevHash" TEXT NOT NULL,
  "hash" TEXT NOT NULL
);
CREATE UNIQUE INDEX "AuditEntry_id_key" ON "AuditEntry"("id");
