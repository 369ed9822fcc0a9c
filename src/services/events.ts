import type { Span } from '@opentelemetry/api';
import type { Db } from '../store/db.ts';
import type { ContractCache } from '../stream/contracts.ts';
import { readPath } from '../stream/event-fields.ts';
import { seriesKeyTooLong } from '../stream/series-bounds.ts';
import { MissingTopicError, SCHEMA_VERSION_HEADER, type EventProducer, type OutgoingMessage } from '../stream/transport.ts';
import { tracePublish } from '../telemetry/spans.ts';
import { BadUserInputError, ConflictError, NotFoundError } from '../core/errors.ts';

export const MAX_EVENTS_PER_PUBLISH = 1000;

export interface PublishResult {
  accepted: number;
  rejected: { index: number; reason: string }[];
}

/**
 * publishEvents: the contract is checked here, before Kafka, so a caller
 * learns at once which events were refused and why; only valid ones are
 * produced, keyed by the series key so a series stays on one partition.
 */
export class EventService {
  constructor(
    private readonly db: Db,
    private readonly contracts: ContractCache,
    private readonly producer: EventProducer,
    private readonly maxEventBytes: number,
    private readonly maxKeyLength: number,
  ) {}

  /**
   * In a `publishEvents` span, a child of the caller's `traceparent`; the
   * events carry that span as their traceparent header, so the worker's
   * spans for any anomaly they cause join the caller's trace.
   */
  async publish(streamId: string, events: unknown[], trace: { traceparent?: string | null } = {}): Promise<PublishResult> {
    return tracePublish(streamId, trace.traceparent, (traceparent, span) => this.produce(streamId, events, { traceparent }, span));
  }

  private async produce(streamId: string, events: unknown[], headers: Record<string, string>, span: Span): Promise<PublishResult> {
    const stream = await this.db.stream.findUnique({ where: { id: streamId } });
    if (!stream) throw new NotFoundError('stream', streamId, 'streamId');
    if (events.length === 0 || events.length > MAX_EVENTS_PER_PUBLISH) {
      throw new BadUserInputError('events', `must hold 1 to ${MAX_EVENTS_PER_PUBLISH} events`);
    }
    const validate = await this.contracts.validator(stream.id, stream.schemaVersion);
    const keyPath = stream.keyField ? stream.keyField.split('.') : undefined;
    // One headers object for the whole batch: kafkajs only reads it, and 1000 copies were garbage per call.
    const batchHeaders = { ...headers, [SCHEMA_VERSION_HEADER]: String(stream.schemaVersion) };
    const rejected: PublishResult['rejected'] = [];
    const messages: OutgoingMessage[] = [];
    for (let index = 0; index < events.length; index++) {
      const event = events[index];
      const value = JSON.stringify(event);
      // A UTF-16 unit is at most 3 UTF-8 bytes: only a value that could be over the limit is measured.
      if (value.length * 3 > this.maxEventBytes && Buffer.byteLength(value) > this.maxEventBytes) {
        rejected.push({ index, reason: `event is larger than the ${this.maxEventBytes}-byte limit` });
        continue;
      }
      const verdict = validate(event);
      if (!verdict.ok) {
        rejected.push({ index, reason: `violates the contract (schema v${stream.schemaVersion}): ${verdict.reason}` });
        continue;
      }
      const key = keyPath ? readPath(event, keyPath) : undefined;
      const seriesKey = key == null ? null : String(key);
      // The worker would dead-letter it; the caller hears now instead.
      const tooLong = seriesKey === null ? null : seriesKeyTooLong(seriesKey, this.maxKeyLength);
      if (tooLong) {
        rejected.push({ index, reason: tooLong });
        continue;
      }
      messages.push({ key: seriesKey, value, headers: batchHeaders });
    }
    span.setAttribute('messaging.destination.name', stream.topic);
    try {
      await this.producer.produce(stream.topic, messages);
    } catch (error) {
      if (error instanceof MissingTopicError) {
        throw new ConflictError(`the stream's topic ${stream.topic} does not exist on the broker (deleted outside Vigil?); nothing was produced`, 'streamId');
      }
      throw error;
    }
    return { accepted: messages.length, rejected };
  }
}
