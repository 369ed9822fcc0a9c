-- SLA evaluation: each SLA has a companion detector (mode DISABLED, never run
-- by workers) whose anomalies record its breaches; such an anomaly names its SLA.
ALTER TABLE "Sla" ADD COLUMN "detectorId" TEXT REFERENCES "Detector"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE UNIQUE INDEX "Sla_detectorId_key" ON "Sla"("detectorId");

ALTER TABLE "Anomaly" ADD COLUMN "slaId" TEXT REFERENCES "Sla"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "Anomaly_slaId_id_idx" ON "Anomaly"("slaId", "id");
