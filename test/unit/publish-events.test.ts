import { describe, expect, it } from 'vitest';
import { EventService } from '../../src/services/events.ts';
import type { ContractCache } from '../../src/stream/contracts.ts';
import { compileValidator } from '../../src/stream/json-schema.ts';
import { SCHEMA_VERSION_HEADER, type OutgoingMessage } from '../../src/stream/transport.ts';
import type { Db } from '../../src/store/db.ts';

const MAX_EVENT_BYTES = 100;
const MAX_KEY_LENGTH = 8;
const STREAM = { id: 'str_1', topic: 'orders', keyField: 'site.host', schemaVersion: 4 };
const SCHEMA = { type: 'object', required: ['site', 'note'], properties: { site: { type: 'object' }, note: { type: 'string' } } };

/** EventService over a stream row, its contract and a producer that keeps what it is given: no database or Kafka. */
function publisher() {
  const produced: { topic: string; messages: OutgoingMessage[] }[] = [];
  const db = { stream: { findUnique: async ({ where }: { where: { id: string } }) => (where.id === STREAM.id ? STREAM : null) } } as unknown as Db;
  const validate = compileValidator(SCHEMA);
  const contracts = { validator: async () => validate } as unknown as ContractCache;
  const producer = { produce: async (topic: string, messages: OutgoingMessage[]) => void produced.push({ topic, messages }) };
  return { service: new EventService(db, contracts, producer, MAX_EVENT_BYTES, MAX_KEY_LENGTH), produced };
}

/** An event whose JSON is exactly `bytes` UTF-8 bytes, its note made of `char` (1 to 3 bytes each) and ASCII padding. */
function eventOfBytes(bytes: number, char: string, host = 'h1'): { site: { host: string }; note: string } {
  const bare = Buffer.byteLength(JSON.stringify({ site: { host }, note: '' }));
  const width = Buffer.byteLength(char);
  const wide = Math.floor((bytes - bare) / width);
  const event = { site: { host }, note: char.repeat(wide) + 'a'.repeat(bytes - bare - wide * width) };
  expect(Buffer.byteLength(JSON.stringify(event))).toBe(bytes);
  return event;
}

describe('EventService.publish', () => {
  it('refuses by UTF-8 bytes, not characters: an event of 2- or 3-byte characters over the limit is refused, one at it is produced', async () => {
    const { service, produced } = publisher();
    const events = [
      eventOfBytes(MAX_EVENT_BYTES, 'é'),
      eventOfBytes(MAX_EVENT_BYTES + 1, 'é'),
      eventOfBytes(MAX_EVENT_BYTES, '€'),
      eventOfBytes(MAX_EVENT_BYTES + 1, '€'),
      eventOfBytes(MAX_EVENT_BYTES + 1, 'a'),
      eventOfBytes(MAX_EVENT_BYTES + 2, '😀'),
    ];
    const result = await service.publish(STREAM.id, events);
    expect(result.accepted).toBe(2);
    expect(result.rejected).toEqual([1, 3, 4, 5].map((index) => ({ index, reason: `event is larger than the ${MAX_EVENT_BYTES}-byte limit` })));
    expect(produced[0]!.messages.map((m) => m.value)).toEqual([JSON.stringify(events[0]), JSON.stringify(events[2])]);
  });

  it('refuses an event whose series key is over VIGIL_MAX_KEY_LENGTH characters (code points), as the worker would dead-letter it', async () => {
    const { service, produced } = publisher();
    const events = [
      { site: { host: 'h'.repeat(MAX_KEY_LENGTH) }, note: 'at the limit' },
      { site: { host: 'h'.repeat(MAX_KEY_LENGTH + 1) }, note: 'over' },
      { site: { host: '😀'.repeat(MAX_KEY_LENGTH) }, note: 'ok' },
    ];
    const result = await service.publish(STREAM.id, events);
    expect(result.rejected).toEqual([{ index: 1, reason: `series key is ${MAX_KEY_LENGTH + 1} characters; the limit is ${MAX_KEY_LENGTH} (VIGIL_MAX_KEY_LENGTH)` }]);
    expect(produced[0]!.messages.map((m) => m.key)).toEqual([events[0]!.site.host, events[2]!.site.host]);
  });

  it('produces each valid event keyed by its key field, with the traceparent and schema version headers, and names each invalid one by index', async () => {
    const { service, produced } = publisher();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const events = [
      { site: { host: 'a' }, note: 'x' },
      { site: { host: 'b' } },
      { site: { host: 7 }, note: 'y' },
      { site: {}, note: 'z' },
    ];
    const result = await service.publish(STREAM.id, events, { traceparent });
    expect(result.accepted).toBe(3);
    expect(result.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/^violates the contract \(schema v4\): .*note/) }]);
    expect(produced).toHaveLength(1);
    expect(produced[0]!.topic).toBe('orders');
    expect(produced[0]!.messages.map((m) => m.key)).toEqual(['a', '7', null]);
    for (const message of produced[0]!.messages) {
      expect(message.headers).toEqual({ traceparent: expect.stringMatching(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-0[01]$/), [SCHEMA_VERSION_HEADER]: '4' });
    }
  });
});
