import { observeContext, type ContextSettings, type ContextVerdict } from './likelihood-context.ts';
import { newSequenceState, observeSequence } from './likelihood-sequence.ts';
import type { LikelihoodState } from './likelihood-state.ts';
import { sequenceWhy } from './likelihood-why.ts';

/**
 * Step 4 of LIKELIHOOD (likelihood.ts): the optional channels, each on the
 * same surprise scale as the other scales; the highest score wins. SEASON,
 * FLAT and DRIFT are in likelihood-context.ts, SEQUENCE in
 * likelihood-sequence.ts. A series has SEQUENCE's state only once that
 * channel is on (the others' state is always kept, empty while they are off).
 */

const NONE: ContextVerdict = { score: 0, channel: null, why: () => '' };

/**
 * Scores x on the enabled channels, then learns it; call before the rest of
 * the state learns x. `range` is the scale of deviations, `step` |x - previous value|,
 * `inputMin` the lowest value the series is expected to take, if given (else the lowest seen so far).
 */
export function observeChannels(
  s: LikelihoodState,
  cfg: ContextSettings,
  x: number,
  time: number,
  range: number,
  step: number,
  inputMin: number | null,
): ContextVerdict {
  const { channels } = cfg;
  let best = NONE;
  if (channels.includes('SEASON') || channels.includes('FLAT') || channels.includes('DRIFT')) {
    best = observeContext(s.context, cfg, x, time, s.slow, range, step, s.stepMean, s.lo);
  }
  if (channels.includes('SEQUENCE')) {
    const seq = (s.sequence ??= newSequenceState(cfg.averaging));
    const warm = seq.n >= cfg.warmup;
    const v = observeSequence(seq, cfg, x, inputMin ?? s.lo, range);
    if (warm && v.score > best.score) best = { score: v.score, channel: 'SEQUENCE', why: sequenceWhy(v, cfg.averaging) };
  }
  return best;
}
