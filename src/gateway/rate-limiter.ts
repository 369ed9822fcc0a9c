import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { withTimeout } from '../core/with-timeout.ts';

/** A token bucket: `pointsPerSecond` refill, holding at most `burst`. */
export interface Bucket {
  pointsPerSecond: number;
  burst: number;
}

export interface Verdict {
  allowed: boolean;
  /** When refused: seconds until the bucket holds enough points. */
  retryAfterSeconds: number;
}

interface BucketState {
  tokens: number;
  atMs: number;
}

/**
 * The bucket arithmetic, shared by the Redis script (which repeats it in Lua)
 * and the in-process fallback. A cost of 0 only asks whether a point is left,
 * which is how failed authentications are gated before the key is looked up.
 */
export function takeFromBucket(state: BucketState | undefined, nowMs: number, bucket: Bucket, cost: number): { state: BucketState; verdict: Verdict } {
  const elapsed = state ? Math.max(0, nowMs - state.atMs) : 0;
  const tokens = Math.min(bucket.burst, (state?.tokens ?? bucket.burst) + (elapsed * bucket.pointsPerSecond) / 1000);
  const needed = Math.max(cost, 1);
  if (tokens >= needed) return { state: { tokens: tokens - cost, atMs: nowMs }, verdict: { allowed: true, retryAfterSeconds: 0 } };
  const retryAfterSeconds = Math.max(1, Math.ceil((needed - tokens) / bucket.pointsPerSecond));
  return { state: { tokens, atMs: nowMs }, verdict: { allowed: false, retryAfterSeconds } };
}

// Redis' own clock, so gateways on several hosts share one notion of time.
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1]) or burst
local at = tonumber(saved[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local needed = math.max(cost, 1)
local allowed = 0
local retry = 0
if tokens >= needed then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.max(1, math.ceil((needed - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry}
`;

/** The script as a command of the connection (ioredis' defineCommand): sent by its SHA, the body only after a NOSCRIPT (a Redis started empty). */
const TAKE_COMMAND = 'vigilTakeFromBucket';

type WithTakeCommand = Redis & {
  [TAKE_COMMAND](key: string, pointsPerSecond: number, burst: number, cost: number): Promise<[number, number]>;
};

/** How long a bucket may wait for Redis before the in-process bucket decides instead. */
const REDIS_TIMEOUT_MS = 250;

/**
 * Rate limits shared by every gateway through Redis. When Redis does not
 * answer in time, the limit is still applied, by a bucket in this process
 * (per gateway rather than global): an outage of Redis must neither stop the
 * API nor lift its limits.
 */
export class RateLimiter {
  private readonly local = new Map<string, BucketState>();
  private readonly redis: WithTakeCommand;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    redis.defineCommand(TAKE_COMMAND, { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.redis = redis as WithTakeCommand;
  }

  async take(identity: string, bucket: Bucket, cost: number): Promise<Verdict> {
    const key = `${this.prefix}:rate:${identity}`;
    try {
      const reply = await withTimeout(
        this.redis[TAKE_COMMAND](key, bucket.pointsPerSecond, bucket.burst, cost),
        REDIS_TIMEOUT_MS,
      );
      return { allowed: reply[0] === 1, retryAfterSeconds: reply[1] };
    } catch (error) {
      this.log.warn({ err: error }, 'rate limiter: Redis unavailable, limiting in this process');
      return this.takeLocally(key, bucket, cost);
    }
  }

  private takeLocally(key: string, bucket: Bucket, cost: number): Verdict {
    const { state, verdict } = takeFromBucket(this.local.get(key), Date.now(), bucket, cost);
    this.local.set(key, state);
    if (this.local.size > 100_000) this.local.delete(this.local.keys().next().value as string);
    return verdict;
  }
}
