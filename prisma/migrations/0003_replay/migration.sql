-- Replay support: an epoch that fences batches restored before a replay, and
-- a short history of detector checkpoints (the nearest earlier one is the
-- starting point of a replay).
ALTER TABLE "ConsumerOffset" ADD COLUMN "epoch" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "DetectorCheckpoint" DROP CONSTRAINT "DetectorCheckpoint_pkey";
ALTER TABLE "DetectorCheckpoint" ADD CONSTRAINT "DetectorCheckpoint_pkey" PRIMARY KEY ("detectorId", "version", "topic", "partition", "nextOffset");
