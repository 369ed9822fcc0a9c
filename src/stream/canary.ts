import type { Redis } from 'ioredis';
import { CANARY_HEADER, type IncomingMessage } from './transport.ts';

/**
 * The synthetic canary's record, one Redis hash per stream
 * (`vigil:canary:<streamId>`). Its contract, read by StreamHealth and by
 * self-monitoring (`canaryOverdueSeconds`), is three integer fields:
 *
 * - `sentAt`: epoch ms the round of canaries (one per partition) awaited was
 *   sent: the newest round, or an older one still under way;
 * - `arrivedAt`: epoch ms that round was complete, i.e. the canary of every
 *   partition had been consumed and committed by a worker;
 * - `latencyMs`: the end-to-end time of the canary that completed it (the
 *   slowest partition's).
 *
 * So `arrivedAt < sentAt` means a round is under way or lost, for
 * `now - sentAt` (self-monitoring's `canaryOverdueSeconds`). Helper
 * fields `partitions` (how many partitions the round covers) and `p:<n>` (the
 * newest canary heard from partition n) are internal to this file.
 */
export const CANARY_KEY_PREFIX = 'vigil:canary:';
export const canaryKey = (streamId: string) => `${CANARY_KEY_PREFIX}${streamId}`;

/** The value of a canary event. Nothing reads it: the header is what marks a canary. */
export const CANARY_VALUE = JSON.stringify({ vigilCanary: true });

/** A canary hash outlives a stream that is gone by this long at most. */
const CANARY_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * Whether a message is a canary and, if its header is a valid time, when it
 * was sent. Any message with the header is a canary (never judged), even with
 * an unreadable time (then its latency is not reported).
 */
export function canaryOf(message: IncomingMessage): { sentAt: number | null } | undefined {
  const header = message.headers[CANARY_HEADER];
  if (header === undefined) return undefined;
  const sentAt = Number(header);
  return { sentAt: Number.isSafeInteger(sentAt) && sentAt > 0 ? sentAt : null };
}

export interface CanaryRecord {
  sentAt: Date | null;
  arrivedAt: Date | null;
  latencyMs: number | null;
}

/**
 * A new round is about to be produced (recorded first, so a fast worker never
 * hears of a canary the hash does not know). While the previous round is
 * still under way `sentAt` stays at its time, so the time a canary is
 * overdue keeps growing across rounds rather than restarting with each; a
 * later round arriving in full completes it.
 */
const SENT_SCRIPT = `
local key = KEYS[1]
local round = tonumber(redis.call('HGET', key, 'sentAt') or '0')
local arrived = tonumber(redis.call('HGET', key, 'arrivedAt') or '0')
if round == 0 or arrived >= round then redis.call('HSET', key, 'sentAt', ARGV[1]) end
redis.call('HSET', key, 'partitions', ARGV[2])
redis.call('PEXPIRE', key, ARGV[3])
return 0
`;

export async function recordCanarySent(redis: Redis, streamId: string, sentAt: number, partitions: number): Promise<void> {
  await redis.eval(SENT_SCRIPT, 1, canaryKey(streamId), String(sentAt), String(partitions), String(CANARY_TTL_MS));
}

/**
 * A canary from `partition` sent at `sentAt` was committed at `now`. The
 * round of `sentAt` (the hash's) is complete when every partition's newest
 * canary is of that round or newer; the canary completing it sets
 * `arrivedAt` = now and `latencyMs` = its own end-to-end time (only forward:
 * several workers share a stream). Each partition's canary counts once, so a
 * duplicate report changes nothing. A hash without a round (expired) takes
 * any newer canary as the round.
 */
const ARRIVAL_SCRIPT = `
local key, partition = KEYS[1], ARGV[1]
local sentAt, now = tonumber(ARGV[2]), tonumber(ARGV[3])
local heard = tonumber(redis.call('HGET', key, 'p:' .. partition) or '0')
-- A canary heard before (a duplicate) or older than one heard from its partition changes nothing.
if sentAt <= heard then return 0 end
redis.call('HSET', key, 'p:' .. partition, ARGV[2])
local round = tonumber(redis.call('HGET', key, 'sentAt') or '0')
local partitions = tonumber(redis.call('HGET', key, 'partitions') or '0')
if round == 0 or partitions == 0 then
  partitions = 0
  if sentAt > round then
    round = sentAt
    redis.call('HSET', key, 'sentAt', ARGV[2])
  end
end
if sentAt < round then return 0 end
for p = 0, partitions - 1 do
  if tonumber(redis.call('HGET', key, 'p:' .. p) or '0') < round then return 0 end
end
local arrived = tonumber(redis.call('HGET', key, 'arrivedAt') or '0')
if now <= arrived then return 0 end
redis.call('HSET', key, 'arrivedAt', ARGV[3], 'latencyMs', string.format('%d', math.max(0, now - sentAt)))
redis.call('PEXPIRE', key, ARGV[4])
return 1
`;

/** Returns true when this canary completed its round (StreamHealth's latency moved). */
export async function recordCanaryArrival(redis: Redis, streamId: string, partition: number, sentAt: number, now = Date.now()): Promise<boolean> {
  const done = await redis.eval(ARRIVAL_SCRIPT, 1, canaryKey(streamId), String(partition), String(sentAt), String(now), String(CANARY_TTL_MS));
  return done === 1;
}

/** The stream's canary record; each field null when never written. */
export async function readCanary(redis: Redis, streamId: string): Promise<CanaryRecord> {
  const [sentAt, arrivedAt, latencyMs] = await redis.hmget(canaryKey(streamId), 'sentAt', 'arrivedAt', 'latencyMs');
  const int = (raw: string | null | undefined) => {
    const value = raw == null || raw === '' ? NaN : Number(raw);
    return Number.isFinite(value) ? value : null;
  };
  const at = (raw: string | null | undefined) => {
    const value = int(raw);
    return value !== null && value > 0 ? new Date(value) : null;
  };
  return { sentAt: at(sentAt), arrivedAt: at(arrivedAt), latencyMs: int(latencyMs) };
}
