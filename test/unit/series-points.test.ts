import type { Redis } from 'ioredis';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/detectors/detector.ts';
import { pointsToSend, SERIES_POINTS_PER_FLUSH, SeriesPointsRecorder, seriesPointsKey } from '../../src/stream/series-points.ts';
import { SeriesTrails } from '../../src/stream/series-trail.ts';

const verdict = (anomalous: boolean, expected: number | null = 1): Verdict => ({ score: 0, anomalous, expected, lower: 0, upper: 2, explanation: '' });

describe('SeriesTrails', () => {
  it('keeps the last point of each second and every anomalous one, per detector and series', () => {
    const trails = new SeriesTrails();
    trails.note('d1', 'a', 1_000, 1, verdict(false));
    trails.note('d1', 'a', 1_400, 2, verdict(false));
    trails.note('d1', 'a', 1_500, 9, verdict(true));
    trails.note('d1', 'a', 1_600, 3, verdict(false));
    trails.note('d1', 'a', 1_999, 4, verdict(false, 1.5));
    trails.note('d1', 'a', 2_000, 5, verdict(false));
    trails.note('d1', null, 1_000, 6, verdict(false, null));
    trails.note('d2', 'a', 1_000, 7, verdict(true));
    trails.note('d2', 'a', 1_100, 8, verdict(true));

    const byKey = Object.fromEntries([...trails].map((t) => [`${t.detectorId}/${t.seriesKey}`, t.points.map((p) => [p.at, p.value, p.expected, p.anomalous])]));
    expect(byKey).toEqual({
      'd1/a': [
        [1_500, 9, 1, true],
        [1_999, 4, 1.5, false],
        [2_000, 5, 1, false],
      ],
      'd1/null': [[1_000, 6, null, false]],
      'd2/a': [
        [1_000, 7, 1, true],
        [1_100, 8, 1, true],
      ],
    });
    expect(trails.size).toBe(6);
  });

  it('keeps the series without a key apart from the series keyed ""', () => {
    expect(seriesPointsKey('d', null)).not.toBe(seriesPointsKey('d', ''));
  });
});

function capture() {
  const lines: { msg: string; err?: { message: string }; failures?: number }[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

function oneTrail(): SeriesTrails {
  const trails = new SeriesTrails();
  trails.note('d', 'a', 1_000, 1, verdict(false));
  return trails;
}

describe('SeriesPointsRecorder', () => {
  it('never throws when Redis fails: the failure is logged with its error', async () => {
    const { log, lines } = capture();
    const failing = { status: 'ready', pipeline: () => ({ zadd() {}, zremrangebyrank() {}, pexpire() {}, exec: () => Promise.reject(new Error('connection lost')) }) };
    const recorder = new SeriesPointsRecorder(failing as unknown as Pick<Redis, 'pipeline' | 'status'>, log);
    expect(() => recorder.record('s', oneTrail())).not.toThrow();
    await recorder.settled();
    expect(lines).toMatchObject([{ msg: expect.stringContaining('series points not recorded'), err: { message: 'connection lost' }, failures: 1 }]);
  });

  it('reports an error of one pipelined command as a failure too', async () => {
    const { log, lines } = capture();
    const partly = { status: 'ready', pipeline: () => ({ zadd() {}, zremrangebyrank() {}, pexpire() {}, exec: async () => [[null, 1], [new Error('OOM'), null]] }) };
    const recorder = new SeriesPointsRecorder(partly as unknown as Pick<Redis, 'pipeline' | 'status'>, log);
    recorder.record('s', oneTrail());
    await recorder.settled();
    expect(lines).toMatchObject([{ err: { message: 'OOM' } }]);
  });

  it('sends nothing while Redis is away, and nothing for a batch without points', async () => {
    const { log, lines } = capture();
    let pipelines = 0;
    const away = { status: 'reconnecting', pipeline: () => pipelines++ };
    const recorder = new SeriesPointsRecorder(away as unknown as Pick<Redis, 'pipeline' | 'status'>, log);
    recorder.record('s', new SeriesTrails());
    expect(lines).toEqual([]);
    recorder.record('s', oneTrail());
    await recorder.settled();
    expect(pipelines).toBe(0);
    expect(lines).toMatchObject([{ err: { message: 'redis is reconnecting' } }]);
  });

  it('keeps the points for the next flush while Redis is away, and sends them once it is back', async () => {
    const { log } = capture();
    const sent: (string | number)[][] = [];
    let landed!: () => void;
    const written = new Promise<void>((resolve) => (landed = resolve));
    const redis = {
      status: 'reconnecting',
      pipeline: () => ({ zadd: (...args: (string | number)[]) => sent.push(args), zremrangebyrank() {}, pexpire() {}, exec: async () => (landed(), []) }),
    };
    const recorder = new SeriesPointsRecorder(redis as unknown as Pick<Redis, 'pipeline' | 'status'>, log, 5);
    recorder.record('s', oneTrail());
    // The first flushes find Redis away; a later one finds it back.
    setTimeout(() => (redis.status = 'ready'), 30);
    await written;
    expect(sent).toEqual([[seriesPointsKey('d', 'a'), 1_000, expect.stringContaining('1000,1')]]);
    await recorder.settled();
  });

  it('sends a write that failed again with the next one, oldest points first', async () => {
    const { log, lines } = capture();
    const sent: (string | number)[][] = [];
    let attempts = 0;
    let landed!: () => void;
    const written = new Promise<void>((resolve) => (landed = resolve));
    const redis = {
      status: 'ready',
      pipeline: () => {
        const attempt = ++attempts;
        return {
          zadd: (...args: (string | number)[]) => attempt > 1 && sent.push(args),
          zremrangebyrank() {},
          pexpire() {},
          exec: async () => {
            if (attempt === 1) throw new Error('Command timed out');
            landed();
            return [];
          },
        };
      },
    };
    const recorder = new SeriesPointsRecorder(redis as unknown as Pick<Redis, 'pipeline' | 'status'>, log, 5);
    recorder.record('s', oneTrail());
    const later = new SeriesTrails();
    later.note('d', 'a', 5_000, 5, verdict(false));
    // Buffered after the first write failed or while it is under way: either way it goes out with the failed points.
    setTimeout(() => recorder.record('s', later), 1);
    await written;
    const members = sent.flatMap(([, ...args]) => args.filter((_, i) => i % 2 === 0));
    expect(members).toEqual(expect.arrayContaining([1_000]));
    expect(lines).toMatchObject([{ err: { message: 'Command timed out' } }]);
    await recorder.settled();
    const all = sent.flatMap(([, ...args]) => args.filter((_, i) => i % 2 === 0));
    expect(all).toEqual([...new Set(all)].sort((a, b) => Number(a) - Number(b)));
    expect(all).toContain(5_000);
  });

  it('buffers batches and sends them together once a flush is due, one point per second across batches', async () => {
    const { log } = capture();
    const sent: (string | number)[][] = [];
    const redis = {
      status: 'ready',
      pipeline: () => ({
        zadd: (...args: (string | number)[]) => sent.push(args),
        zremrangebyrank() {},
        pexpire() {},
        exec: async () => [],
      }),
    };
    const recorder = new SeriesPointsRecorder(redis as unknown as Pick<Redis, 'pipeline' | 'status'>, log, 60_000);
    const first = new SeriesTrails();
    first.note('d', 'a', 1_100, 1, verdict(false));
    const second = new SeriesTrails();
    second.note('d', 'a', 1_900, 2, verdict(false));
    second.note('d', 'a', 2_100, 3, verdict(false));
    recorder.record('s', first);
    recorder.record('s', second);
    expect(sent).toEqual([]);
    await recorder.settled();
    expect(sent).toHaveLength(1);
    const [key, ...members] = sent[0]!;
    expect(key).toBe(seriesPointsKey('d', 'a'));
    expect(members.filter((_, i) => i % 2 === 0)).toEqual([1_900, 2_100]);
  });

  it('sends at most SERIES_POINTS_PER_FLUSH ordinary points of a series per flush (the newest), and every anomalous one', () => {
    const points = Array.from({ length: 200 }, (_, i) => ({ at: i * 1000, value: i, expected: null, lower: null, upper: null, anomalous: i === 3 || i === 150 }));
    const sent = pointsToSend(points);
    expect(sent.filter((p) => !p.anomalous)).toHaveLength(SERIES_POINTS_PER_FLUSH);
    expect(sent.filter((p) => p.anomalous).map((p) => p.at)).toEqual([3_000, 150_000]);
    expect(sent.at(-1)!.at).toBe(199_000);
    expect(sent.map((p) => p.at)).toEqual([...sent.map((p) => p.at)].sort((a, b) => a - b));
    expect(pointsToSend(points.slice(0, 10))).toHaveLength(10);
  });
});
