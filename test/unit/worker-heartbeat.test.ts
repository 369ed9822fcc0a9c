import { describe, expect, it } from 'vitest';
import { parseBeat, readBeats, WORKER_HEARTBEAT_PREFIX, type WorkerBeat } from '../../src/stream/worker-heartbeat.ts';

const beat: WorkerBeat = { id: 'vm:1', host: 'vm', pid: 1, group: 'g', partitions: { t: [0, 2] }, at: 1 };

/** The two calls readBeats makes, over a plain map: SCAN pages and MGET (null for a key gone meanwhile). */
function fakeRedis(values: Record<string, string | null>) {
  return {
    scanStream: () => (async function* () {
      const keys = Object.keys(values);
      yield keys.slice(0, 1);
      yield keys.slice(1);
    })(),
    mget: async (...keys: string[]) => keys.map((key) => values[key] ?? null),
  };
}

describe('worker heartbeats', () => {
  it('reads a beat back, and nothing from a bare timestamp (an older version) or garbage', () => {
    expect(parseBeat(JSON.stringify(beat))).toEqual(beat);
    expect(parseBeat('2026-12-07T12:00:00.000Z')).toBeNull();
    expect(parseBeat('{"id":1}')).toBeNull();
    expect(parseBeat('{not json')).toBeNull();
    expect(parseBeat(null)).toBeNull();
  });

  it('lists the beats, counts the keys of older workers apart, and skips keys that expired between scan and read', async () => {
    const redis = fakeRedis({
      [`${WORKER_HEARTBEAT_PREFIX}vm:1`]: JSON.stringify(beat),
      [`${WORKER_HEARTBEAT_PREFIX}old:2`]: '2026-12-07T12:00:00.000Z',
      [`${WORKER_HEARTBEAT_PREFIX}gone:3`]: null,
    });
    expect(await readBeats(redis as never)).toEqual({ beats: [beat], others: 1 });
    expect(await readBeats(fakeRedis({}) as never)).toEqual({ beats: [], others: 0 });
  });
});
