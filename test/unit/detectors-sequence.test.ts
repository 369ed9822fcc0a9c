import { describe, expect, it } from 'vitest';
import { parseNabTime } from '../../bench/nab/loader.ts';
import { generateFile, type AnomalyKind } from '../../bench/nab/synthetic.ts';
import { normalizeDetectorParams } from '../../src/detectors/params.ts';
import { createDetector, type DetectorModel, type Verdict } from '../../src/detectors/detector.ts';
import { binOf, FINE_BINS, newSequenceState, observeSequence, sequenceNumbers } from '../../src/detectors/likelihood-sequence.ts';
import type { LikelihoodState } from '../../src/detectors/likelihood-state.ts';
import { DetectorStateError } from '../../src/detectors/state-check.ts';

// LIKELIHOOD's SEQUENCE channel (likelihood-sequence.ts): a learnt model of the moves a series makes from each level.

const SETTINGS = { averaging: 20, longAlpha: 2 / 2001, minVar: 0.0001 };

function model(params: Record<string, unknown>): DetectorModel<LikelihoodState> {
  return createDetector('LIKELIHOOD', params, 'orders') as DetectorModel<LikelihoodState>;
}

function runHourly(params: Record<string, unknown>, seed: number, kind: AnomalyKind) {
  const m = model(params);
  const file = generateFile(seed, 'hourly', 'low', kind);
  const state = m.newState();
  const verdicts: Verdict[] = file.values.map((v, i) => m.observe(state, v, parseNabTime(file.timestamps[i]!)));
  const inWindow = (i: number) => file.windows.some(([a, b]) => i >= a && i <= b);
  return {
    state,
    found: file.windows.filter(([a, b]) => verdicts.some((v, i) => v.anomalous && i >= a && i <= b)).length,
    bySequence: verdicts.filter((v, i) => v.anomalous && inWindow(i) && v.explanation.includes('SEQUENCE:')),
    falsePositives: verdicts.filter((v, i) => v.anomalous && !inWindow(i)).length,
  };
}

describe('LIKELIHOOD SEQUENCE channel', () => {
  it('bins a value by its share of the range, clipping outside it', () => {
    expect(binOf(0, 0, 64)).toBe(0);
    expect(binOf(10.5, 0, 64)).toBe(10);
    expect(binOf(64, 0, 64)).toBe(FINE_BINS - 1);
    expect(binOf(-5, 0, 64)).toBe(0);
  });

  it('scores a run of moves the series never made there, not the moves it always makes', () => {
    const s = newSequenceState(SETTINGS.averaging);
    // A sawtooth creeping up one bin per event: every move is +1 bin.
    const saw = (i: number) => (i % 32) + 0.5;
    for (let i = 0; i < 2000; i++) observeSequence(s, SETTINGS, saw(i), 0, 64);
    let usual = 0;
    for (let i = 2000; i < 3000; i++) usual = Math.max(usual, observeSequence(s, SETTINGS, saw(i), 0, 64).score);
    expect(usual).toBeLessThan(2);
    // The same values in the wrong order: jumps of several bins, none beyond the range seen.
    let wrong = 0;
    for (let i = 0; i < 20; i++) wrong = Math.max(wrong, observeSequence(s, SETTINGS, ((i * 7) % 32) + 0.5, 0, 64).score);
    expect(wrong).toBeGreaterThan(4);
  });

  it('finds the flatlines and amplitude losses of an hourly cycle that the other scales miss, naming the channel', () => {
    for (const kind of ['flatline', 'amplitude'] as const) {
      for (const seed of [11, 12]) {
        const plain = runHourly({}, seed, kind);
        const seq = runHourly({ channels: ['SEQUENCE'] }, seed, kind);
        expect(plain.found).toBe(0);
        expect(seq.found).toBe(2);
        expect(seq.bySequence.length).toBeGreaterThan(0);
        expect(seq.bySequence[0]!.explanation).toMatch(/SEQUENCE: the value (moved (up|down) (1 bin|\d+( or more)? bins) \(of 64\)|stayed in its bin) from level \d+ of 16, a move made .*% of the time from there; the last 20 moves are .* sd less usual/);
        expect(seq.falsePositives).toBe(plain.falsePositives);
      }
    }
  });

  it('keeps a bounded state, only while the channel is on', () => {
    expect(runHourly({}, 11, 'none').state.sequence).toBeUndefined();
    const { state } = runHourly({ channels: ['SEQUENCE'] }, 11, 'none');
    const seq = state.sequence!;
    const numbers = seq.counts.length + seq.rows.length + seq.ring.length + 6;
    expect(numbers).toBe(sequenceNumbers(20));
    expect(JSON.stringify(seq).length).toBeLessThan(4_000);
  });

  it('restores a JSON checkpoint mid-stream to the same verdicts, and rejects a malformed one', () => {
    const file = generateFile(14, 'hourly', 'high', 'amplitude');
    const times = file.timestamps.map((t) => parseNabTime(t));
    const a = model({ channels: ['SEQUENCE'] });
    const sa = a.newState();
    const straight = file.values.map((v, i) => a.observe(sa, v, times[i]!).score);
    const b = model({ channels: ['SEQUENCE'] });
    let sb = b.newState();
    const resumed = file.values.map((v, i) => {
      if (i === 2500) sb = b.restore(JSON.parse(JSON.stringify(sb)));
      return b.observe(sb, v, times[i]!).score;
    });
    expect(resumed).toEqual(straight);
    const saved = JSON.parse(JSON.stringify(sb)) as Record<string, Record<string, unknown>>;
    expect(() => b.restore({ ...saved, sequence: { ...saved.sequence, counts: [1, 2] } })).toThrow(DetectorStateError);
    expect(() => b.restore({ ...saved, sequence: { ...saved.sequence, prev: FINE_BINS } })).toThrow(DetectorStateError);
  });

  it('is a channel of the channels setting', () => {
    expect(normalizeDetectorParams('LIKELIHOOD', { channels: ['SEQUENCE', 'SEASON'] }).channels).toEqual(['SEQUENCE', 'SEASON']);
  });
});
