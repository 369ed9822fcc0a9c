-- The lifecycle API (issue 11): streams, detectors, SLAs and runbooks can be
-- archived and restored, and a stream carries a description.
--
-- Archiving is a timestamp, never a delete: an archived object keeps its
-- history (versions, anomalies, incidents, executions) and the lineage that
-- points at it; the worker, the SLA evaluator and runbook planning skip it,
-- and default lists leave it out. NULL means live.

ALTER TABLE "Stream" ADD COLUMN "description" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Stream" ADD COLUMN "archivedAt" TIMESTAMP(3);
ALTER TABLE "Detector" ADD COLUMN "archivedAt" TIMESTAMP(3);
ALTER TABLE "Sla" ADD COLUMN "archivedAt" TIMESTAMP(3);
ALTER TABLE "Runbook" ADD COLUMN "archivedAt" TIMESTAMP(3);

-- auditLog filters by actor, action and target, newest first.
CREATE INDEX "AuditEntry_actor_id_idx" ON "AuditEntry"("actor", "id");
CREATE INDEX "AuditEntry_action_id_idx" ON "AuditEntry"("action", "id");
CREATE INDEX "AuditEntry_target_id_idx" ON "AuditEntry"("target", "id");
