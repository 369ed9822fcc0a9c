-- Silences (maintenance windows): anomalies whose event time falls in one are recorded with it and
-- open no incident. Workers load them with the registry (every change bumps RegistryVersion).
CREATE TABLE "Silence" (
    "id" TEXT NOT NULL,
    "streamId" TEXT NOT NULL,
    "detectorId" TEXT,
    "seriesKey" TEXT,
    "startsAt" TIMESTAMP(3) NOT NULL,
    "endsAt" TIMESTAMP(3) NOT NULL,
    "reason" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedBy" TEXT,
    CONSTRAINT "Silence_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Silence_window" CHECK ("endsAt" > "startsAt")
);
CREATE INDEX "Silence_streamId_endsAt_idx" ON "Silence"("streamId", "endsAt");
CREATE INDEX "Silence_endsAt_id_idx" ON "Silence"("endsAt", "id");
ALTER TABLE "Silence" ADD CONSTRAINT "Silence_streamId_fkey" FOREIGN KEY ("streamId") REFERENCES "Stream"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Silence" ADD CONSTRAINT "Silence_detectorId_fkey" FOREIGN KEY ("detectorId") REFERENCES "Detector"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "Anomaly" ADD COLUMN "silenceId" TEXT;
ALTER TABLE "Anomaly" ADD CONSTRAINT "Anomaly_silenceId_fkey" FOREIGN KEY ("silenceId") REFERENCES "Silence"("id") ON DELETE SET NULL ON UPDATE CASCADE;
-- Retention deletes ended silences; the foreign key then clears the anomalies that name one, and
-- this index finds them (partial: almost every anomaly names none). Not in schema.prisma, which
-- cannot state a partial index.
CREATE INDEX "Anomaly_silenceId_idx" ON "Anomaly"("silenceId") WHERE "silenceId" IS NOT NULL;
