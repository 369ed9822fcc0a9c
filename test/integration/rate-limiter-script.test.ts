import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/gateway/rate-limiter.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';

/**
 * The rate limiter's Lua script goes to the real Redis by its SHA: the body
 * travels once (when Redis does not know it yet), not with every request.
 * The commands are recorded on a connection of this file's own.
 */
let redis: Redis;
const sent: string[] = [];

beforeAll(async () => {
  // Connected before anything is recorded: a command queued while connecting passes sendCommand twice.
  redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await redis.connect();
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], ...rest: unknown[]) => {
    sent.push(command.name.toLowerCase());
    return (send as (...args: unknown[]) => unknown)(command, ...rest);
  }) as Redis['sendCommand'];
});

afterAll(async () => {
  await redis?.quit();
});

describe('rate limiter script', () => {
  it('is sent by its SHA, its body at most once, and still counts', async () => {
    const limiter = new RateLimiter(redis, uniqueName('ratescript'), pino({ level: 'silent' }));
    const bucket = { pointsPerSecond: 0.001, burst: 3 };
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push(await limiter.take('caller', bucket, 1));
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false, false]);
    const scripts = sent.filter((name) => name === 'eval' || name === 'evalsha');
    expect(scripts.filter((name) => name === 'evalsha').length).toBe(5);
    expect(scripts.filter((name) => name === 'eval').length).toBeLessThanOrEqual(1);
  });
});
