-- The series of a detector that are drifting now, across every partition and
-- worker: Detector.drifting holds while any row does, and the drift incident
-- resolves when the last one clears.
CREATE TABLE "DetectorDrift" (
    "detectorId" TEXT NOT NULL,
    "seriesKey" TEXT NOT NULL,
    "since" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DetectorDrift_pkey" PRIMARY KEY ("detectorId", "seriesKey"),
    CONSTRAINT "DetectorDrift_detectorId_fkey" FOREIGN KEY ("detectorId") REFERENCES "Detector"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
