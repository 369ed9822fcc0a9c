-- Incident grouping: a policy per detector (not versioned), and what an
-- incident groups (its detector and series) and when it last saw an anomaly.
ALTER TABLE "Detector"
  ADD COLUMN "incidentGroupBy" TEXT NOT NULL DEFAULT 'DETECTOR',
  ADD COLUMN "correlationWindowSeconds" INTEGER NOT NULL DEFAULT 300,
  ADD COLUMN "flapWindowSeconds" INTEGER NOT NULL DEFAULT 900,
  ADD COLUMN "quietPeriodSeconds" INTEGER NOT NULL DEFAULT 1800;

ALTER TABLE "Incident"
  ADD COLUMN "detectorId" TEXT,
  ADD COLUMN "seriesKey" TEXT,
  ADD COLUMN "lastSeenAt" TIMESTAMP(3);

DROP INDEX "Incident_groupKey_status_idx";
CREATE INDEX "Incident_groupKey_openedAt_idx" ON "Incident"("groupKey", "openedAt");
