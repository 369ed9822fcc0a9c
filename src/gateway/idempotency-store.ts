import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { withTimeout } from '../core/with-timeout.ts';

/** A mutation's answer as the client received it, kept to answer a retry with the same Idempotency-Key. */
export interface KeptResult {
  data: unknown;
  errors?: {
    message: string;
    locations?: readonly { line: number; column: number }[];
    path?: readonly (string | number)[];
    extensions?: Record<string, unknown>;
  }[];
}

/** What a new request with a key finds: the key is now its own, still held by another request, used for another request, or done. */
export type Claim =
  | { kind: 'claimed' }
  | { kind: 'in-progress' }
  | { kind: 'in-doubt'; startedAt: Date }
  | { kind: 'other-request' }
  | { kind: 'done'; result: KeptResult | null; withheld?: Withheld };

/** Why a done request's answer was not kept: it held a secret shown once, or it was too large. */
export type Withheld = 'secret' | 'size';

interface Entry {
  fingerprint: string;
  state: 'running' | 'done';
  /** When a running request began (epoch ms). */
  startedAt?: number;
  result?: KeptResult | null;
  withheld?: Withheld;
}

/** How long a request may run before a retry is told its outcome is unknown, and how long a key is kept. */
export interface IdempotencyTimes {
  runningSeconds: number;
  doneSeconds: number;
}

export const IDEMPOTENCY_TIMES: IdempotencyTimes = { runningSeconds: 120, doneSeconds: 24 * 60 * 60 };

/** A result larger than this is not kept: a retry is told the request was carried out, without its result. */
export const MAX_KEPT_RESULT_BYTES = 64 * 1024;

/** Longest wait for Redis per call: a hung Redis must not hold a request (the caller answers INTERNAL, or logs). */
export const IDEMPOTENCY_REDIS_TIMEOUT_MS = 500;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Idempotency-Key records in Redis, one per API key and Idempotency-Key: the
 * request's fingerprint, then its result. SET NX makes the first request the
 * only one to run; Redis is shared, so this holds across gateway processes.
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly times: IdempotencyTimes = IDEMPOTENCY_TIMES,
    /** The clock (a test passes one that stands in the past, as a gateway that died long ago). */
    private readonly now: () => number = Date.now,
  ) {}

  /** The record's Redis key. Hashed, so any header text makes a well-formed key and nothing of it is stored in clear. */
  slotOf(apiKeyId: string, idempotencyKey: string): string {
    return `${this.prefix}:idempotency:${sha256(apiKeyId)}:${sha256(idempotencyKey)}`;
  }

  /**
   * A running claim is kept as long as an answer would be: a request whose gateway died
   * mid-way, or whose answer Redis lost, may have taken effect, and running it again
   * could do it twice (publish the events again). Past `runningSeconds`, a retry is told so.
   */
  async claim(slot: string, fingerprint: string): Promise<Claim> {
    const running: Entry = { fingerprint, state: 'running', startedAt: this.now() };
    // Twice at most: a record that expires between the SET and the GET is simply free again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const set = this.redis.set(slot, JSON.stringify(running), 'EX', this.times.doneSeconds, 'NX');
      if ((await withTimeout(set, IDEMPOTENCY_REDIS_TIMEOUT_MS)) === 'OK') return { kind: 'claimed' };
      const raw = await withTimeout(this.redis.get(slot), IDEMPOTENCY_REDIS_TIMEOUT_MS);
      if (raw === null) continue;
      const entry = JSON.parse(raw) as Entry;
      if (entry.fingerprint !== fingerprint) return { kind: 'other-request' };
      if (entry.state === 'done') return { kind: 'done', result: entry.result ?? null, withheld: entry.withheld };
      const startedAt = entry.startedAt ?? this.now();
      return this.now() - startedAt < this.times.runningSeconds * 1000 ? { kind: 'in-progress' } : { kind: 'in-doubt', startedAt: new Date(startedAt) };
    }
    return { kind: 'in-progress' };
  }

  /**
   * Keeps the result for a day; or only the fact that the request is done, when its answer
   * holds a secret shown once (`keepAnswer` false) or is too large to keep.
   */
  async keep(slot: string, fingerprint: string, result: KeptResult, keepAnswer: boolean): Promise<void> {
    const withAnswer = keepAnswer ? JSON.stringify({ fingerprint, state: 'done', result } satisfies Entry) : undefined;
    const withheld: Withheld | undefined = !withAnswer ? 'secret' : Buffer.byteLength(withAnswer) > MAX_KEPT_RESULT_BYTES ? 'size' : undefined;
    const entry = withheld ? JSON.stringify({ fingerprint, state: 'done', result: null, withheld } satisfies Entry) : withAnswer!;
    await withTimeout(this.redis.set(slot, entry, 'EX', this.times.doneSeconds), IDEMPOTENCY_REDIS_TIMEOUT_MS);
  }

  /** Frees the key, so a retry runs the request again (it was refused: nothing ran). */
  async release(slot: string): Promise<void> {
    await withTimeout(this.redis.del(slot), IDEMPOTENCY_REDIS_TIMEOUT_MS);
  }
}

/** The same request, byte for byte in meaning: its document, operation name and variables (keys in any order). */
export function requestFingerprint(documentText: string, operationName: string | null | undefined, variables: unknown): string {
  return sha256(JSON.stringify([documentText, operationName ?? null, canonical(variables)]));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
