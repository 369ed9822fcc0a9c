import type { Logger } from 'pino';
import { CHANNELS } from '../pubsub/pubsub.ts';
import { recordCanaryLatency, recordProcessingError } from '../telemetry/metrics.ts';
import { NO_DETECTIONS, type Detections } from '../telemetry/spans.ts';
import { recordCanaryArrival } from './canary.ts';
import type { StreamSpec } from './catalog.ts';
import type { CommitResult } from './effects-store.ts';
import type { WorkerPorts } from './ports.ts';
import { serializeAnomaly } from './serialize.ts';
import { deadLetterTopic } from './topic-names.ts';

/**
 * What the worker tells others once a batch is committed: live subscribers
 * hear of new anomalies and changed incidents, the outbox relay hears of
 * planned executions, dead letters are copied to `<topic>.dlq`, and canary
 * arrivals are recorded. None of it is of record (PostgreSQL is), so a
 * failure here is logged and counted, never undoes the commit.
 */
export class Announcer {
  constructor(
    private readonly ports: Pick<WorkerPorts, 'pubsub' | 'kafka' | 'redis'>,
    private readonly log: Logger,
    private readonly onExecutionsPlanned: (executionIds: string[]) => void,
  ) {}

  async announce(stream: StreamSpec, committed: CommitResult, detections: Detections = NO_DETECTIONS): Promise<void> {
    const { pubsub } = this.ports;
    await Promise.all([
      ...committed.anomalies.map((a) => detections.publish(a, CHANNELS.anomalies, () => pubsub.publish(CHANNELS.anomalies, serializeAnomaly(a)))),
      ...[...committed.incidentIds].map((id) => pubsub.publish(CHANNELS.incidents, { id })),
    ]);
    if (committed.executionIds.length > 0) this.onExecutionsPlanned(committed.executionIds);
    if (committed.deadLetters.length > 0) await this.copyDeadLetters(stream, committed.deadLetters);
  }

  /** The row in PostgreSQL is the dead letter of record; the topic copy is a convenience. */
  private async copyDeadLetters(stream: StreamSpec, deadLetters: CommitResult['deadLetters']): Promise<void> {
    const messages = deadLetters.map((d) => ({
      key: d.eventKey,
      value: d.payload,
      headers: { 'vigil-reason': d.reason, 'vigil-source': `${d.topic}/${d.partition}/${d.offset}` },
    }));
    await this.ports.kafka.produce(deadLetterTopic(stream.topic), messages).catch((error: unknown) => {
      recordProcessingError(stream.name, 'dead_letter_copy');
      this.log.warn({ err: error, topic: stream.topic }, 'copy to the DLQ topic failed');
    });
  }

  /** Committed canaries: their end-to-end time goes to the histogram and, per round, to the stream's canary hash. */
  async recordCanaries(stream: StreamSpec, partition: number, canaries: readonly { sentAt: number }[]): Promise<void> {
    const now = Date.now();
    try {
      for (const canary of canaries) {
        recordCanaryLatency(stream.name, (now - canary.sentAt) / 1000);
        await recordCanaryArrival(this.ports.redis, stream.id, partition, canary.sentAt, now);
      }
    } catch (error) {
      // The batch is committed; a lost record shows as an overdue canary, as it should.
      this.log.warn({ topic: stream.topic, partition, err: error }, 'canary arrival not recorded');
    }
  }
}
