import type { StreamSpec } from './catalog.ts';
import { readPath } from './event-fields.ts';
import { parseEventTime } from './event-time.ts';
import { DEFAULT_MAX_KEY_LENGTH, seriesKeyTooLong } from './series-bounds.ts';
import type { IncomingMessage } from './transport.ts';

/** Dead letters keep at most this much of the raw value. */
export const MAX_DEAD_LETTER_PAYLOAD = 64 * 1024;

const EMPTY = Buffer.alloc(0);

export function deadLetterPayload(raw: Buffer): string {
  return pgText(raw.subarray(0, MAX_DEAD_LETTER_PAYLOAD).toString('utf8'));
}

/**
 * PostgreSQL text cannot hold U+0000; a message carrying one must still
 * become a row, or its partition would retry it forever. It is stored as U+FFFD.
 */
export function pgText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** The message's Kafka key as stored (eventKey): read only for the events an anomaly or a dead letter names, not for every event. */
export function eventKeyOf(message: IncomingMessage): string | null {
  const key = message.key;
  return key === null ? null : pgText(key);
}

export interface DecodedEvent {
  offset: bigint;
  value: Record<string, unknown>;
  /** The event's own time (timestampField), else the Kafka timestamp. */
  eventTime: number;
  kafkaTime: number;
  seriesKey: string | null;
  traceparent: string | null;
}

export type Decoded = { ok: true; event: DecodedEvent } | { ok: false; reason: string; payload: string };

/**
 * Turns one Kafka message into an event the detectors can read, or a
 * dead-letter reason. Pure: the same message and contract give the same answer.
 */
export function decodeMessage(
  message: IncomingMessage,
  stream: StreamSpec,
  maxEventBytes: number,
  maxKeyLength: number = DEFAULT_MAX_KEY_LENGTH,
  offset: bigint = BigInt(message.offset),
): Decoded {
  const raw = message.value ?? EMPTY;
  if (raw.length > maxEventBytes) {
    return { ok: false, reason: `oversized: ${raw.length} bytes, the limit is ${maxEventBytes}`, payload: deadLetterPayload(raw) };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: pgText(`malformed JSON: ${(error as Error).message}`), payload: deadLetterPayload(raw) };
  }
  let verdict: ReturnType<StreamSpec['validate']>;
  try {
    verdict = stream.validate(value);
  } catch (error) {
    // A validator that throws would fail the batch, and the partition would retry this event forever.
    verdict = { ok: false, reason: `validation failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!verdict.ok) {
    return { ok: false, reason: pgText(`contract violation (schema v${stream.schemaVersion}): ${verdict.reason}`), payload: deadLetterPayload(raw) };
  }
  const event = value as Record<string, unknown>;
  let eventTime = message.timestamp;
  if (stream.timestampPath) {
    const stamp = readPath(event, stream.timestampPath);
    if (stamp !== undefined && stamp !== null) {
      const parsed = typeof stamp === 'number' ? stamp : parseEventTime(String(stamp));
      if (!Number.isFinite(parsed)) {
        return { ok: false, reason: pgText(`${stream.timestampField} is not a time: ${JSON.stringify(stamp)}`), payload: deadLetterPayload(raw) };
      }
      eventTime = parsed;
    }
  }
  const key = stream.keyPath ? readPath(event, stream.keyPath) : undefined;
  const seriesKey = key === undefined || key === null ? null : pgText(String(key));
  // Before detection: a key this long would be held in detector state and written to indexed columns.
  const tooLong = seriesKey === null ? null : seriesKeyTooLong(seriesKey, maxKeyLength);
  if (tooLong) return { ok: false, reason: tooLong, payload: deadLetterPayload(raw) };
  return {
    ok: true,
    event: {
      offset,
      value: event,
      eventTime,
      kafkaTime: message.timestamp,
      seriesKey,
      traceparent: message.headers.traceparent ?? null,
    },
  };
}
