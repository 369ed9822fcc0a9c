-- The trace context of the event behind each anomaly (W3C traceparent from Kafka headers).
ALTER TABLE "Anomaly" ADD COLUMN "traceparent" TEXT;
