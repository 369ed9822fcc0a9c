import type { Logger } from 'pino';
import type { Services } from '../services/container.ts';
import { CANARY_VALUE, recordCanarySent } from '../stream/canary.ts';
import { CANARY_HEADER, type OutgoingMessage } from '../stream/transport.ts';

/** Self-monitoring's internal stream (src/workflows/self-monitor.ts): it gets no canary; it watches theirs. */
const SELF_STREAM_NAME = 'vigil.self';

export interface CanarySummary {
  /** Streams a round of canaries was produced to. */
  streams: number;
  /** Canaries produced (one per partition). */
  canaries: number;
  /** Streams whose round could not be produced (their canary then shows as overdue). */
  failed: number;
}

/**
 * The synthetic canary (a scheduled BullMQ job, see runner.ts): to every
 * partition of every accepted ACTIVE stream, one message marked by
 * CANARY_HEADER (its value the send time) that travels the whole path. The
 * worker commits it with its batch but never validates, scores or
 * dead-letters it, then records its arrival (src/stream/canary.ts): its
 * end-to-end time is StreamHealth.canaryLatencySeconds and the
 * vigil_canary_latency_seconds histogram; a round that does not arrive is
 * `canaryOverdueSeconds` of self-monitoring, whose THRESHOLD detector opens
 * the incident.
 */
export async function sendCanaries(
  services: Services,
  log: Logger,
  acceptsStream: (streamName: string) => boolean,
  now: () => number = Date.now,
): Promise<CanarySummary> {
  const { db, kafka, redis } = services.ports;
  // An archived stream is not consumed: a canary sent to it would only ever be reported lost.
  const streams = await db.stream.findMany({ where: { status: 'ACTIVE', archivedAt: null }, orderBy: { id: 'asc' } });
  const summary: CanarySummary = { streams: 0, canaries: 0, failed: 0 };
  for (const stream of streams) {
    if (stream.name === SELF_STREAM_NAME || !acceptsStream(stream.name)) continue;
    try {
      // Kafka's count, not the registry's: a topic may have been given more partitions since.
      const partitions = (await kafka.partitionCount(stream.topic)) ?? stream.partitions;
      const sentAt = now();
      // Recorded before it is produced: a fast worker must find the round it completes.
      await recordCanarySent(redis, stream.id, sentAt, partitions);
      const messages: OutgoingMessage[] = Array.from({ length: partitions }, (_, partition) => ({
        key: null,
        value: CANARY_VALUE,
        headers: { [CANARY_HEADER]: String(sentAt) },
        partition,
      }));
      await kafka.produce(stream.topic, messages);
      summary.streams++;
      summary.canaries += partitions;
    } catch (error) {
      // One stream that cannot be reached must not stop the others; its round never arrives, which is reported.
      summary.failed++;
      log.warn({ stream: stream.name, err: error }, 'canary not sent');
    }
  }
  return summary;
}
