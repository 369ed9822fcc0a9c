import { describe, expect, it } from 'vitest';
import { pipelineSilences, silenceFor, type SilenceSpec } from '../../src/stream/maintenance-silences.ts';

const window = (id: string, over: Partial<SilenceSpec> = {}): SilenceSpec => ({ id, detectorId: null, seriesKey: null, startsMs: 1_000, endsMs: 2_000, ...over });

describe('which silence an anomaly falls in', () => {
  it('matches by event time, start inclusive and end exclusive', () => {
    const silences = [window('s1')];
    expect([999, 1_000, 1_999, 2_000].map((t) => silenceFor(silences, 'det_a', 'web-1', t))).toEqual([null, 's1', 's1', null]);
  });

  it('keeps to the detector and series a silence names, and a null names every one', () => {
    const silences = [window('only-b', { detectorId: 'det_b' }), window('only-web-2', { seriesKey: 'web-2' })];
    expect(silenceFor(silences, 'det_a', 'web-1', 1_500)).toBeNull();
    expect(silenceFor(silences, 'det_b', 'web-1', 1_500)).toBe('only-b');
    expect(silenceFor(silences, 'det_a', 'web-2', 1_500)).toBe('only-web-2');
    expect(silenceFor(silences, 'det_a', null, 1_500)).toBeNull();
  });

  it('names the oldest of several that match, and none without silences', () => {
    expect(silenceFor([window('older'), window('newer')], 'det_a', null, 1_500)).toBe('older');
    expect(silenceFor(undefined, 'det_a', null, 1_500)).toBeNull();
    expect(silenceFor([], 'det_a', null, 1_500)).toBeNull();
  });
});

describe("the self-monitoring stream's silences", () => {
  it("take each watched stream's whole-stream silences, scoped to that stream's series, oldest first with its own", () => {
    const own = [window('s2-own', { detectorId: 'det_lag' })];
    const watched = [
      { id: 'str_a', silences: [window('s3-a'), window('s1-a-detector', { detectorId: 'det_x' }), window('s4-a-series', { seriesKey: 'web-1' })] },
      { id: 'str_b', silences: [window('s0-b')] },
    ];
    const silences = pipelineSilences(own, watched);
    expect(silences.map((s) => [s.id, s.detectorId, s.seriesKey])).toEqual([
      ['s0-b', null, 'str_b'],
      ['s2-own', 'det_lag', null],
      ['s3-a', null, 'str_a'],
    ]);
    // The self stream's series are the watched streams' ids: each is silenced by its own stream's silence only.
    expect(silenceFor(silences, 'det_errors', 'str_a', 1_500)).toBe('s3-a');
    expect(silenceFor(silences, 'det_errors', 'str_c', 1_500)).toBeNull();
    expect(pipelineSilences([], [])).toEqual([]);
  });
});
