-- Self-monitoring: a business incident that opens looks up the open
-- self-monitoring incident about its stream (series key = the stream's id).
CREATE INDEX "Incident_seriesKey_status_idx" ON "Incident"("seriesKey", "status");
