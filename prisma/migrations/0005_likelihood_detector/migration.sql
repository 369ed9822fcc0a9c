-- The LIKELIHOOD detector kind: anomaly likelihood over several time scales, novelty and a quiet period after alerts.
ALTER TYPE "DetectorKind" ADD VALUE 'LIKELIHOOD';
