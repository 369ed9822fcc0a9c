import type { DetectorModel, Verdict } from './detector.ts';
import {
  describeDrift,
  DRIFT_MIN_EVENTS_DEFAULT,
  DRIFT_THRESHOLD_DEFAULT,
  type DriftSettings,
  driftSettings,
  type DriftState,
  newDriftState,
  resetDrift,
  restoreDrift,
  updateDrift,
} from './drift.ts';
import { fmt, isUsableValue } from './format.ts';
import { newQuantileState, type QuantileState, quantileEstimate, restoreQuantile, updateQuantile } from './quantile.ts';
import { checkNumber, checkObject } from './state-check.ts';
import { DeviationVerdict } from './stats.ts';

/**
 * Drift handling and adaptive thresholds for a statistical kind (ZSCORE,
 * MAD, EWMA, SEASONAL), as a layer around the kind's model. With neither
 * turned on (no `targetAlertRate`, `drift` absent or OFF) the kind's model is
 * used as it is: same verdicts, same state, no cost.
 *
 * The layer's own fields sit beside the kind's fields in the series state
 * (plain numbers and arrays, prefixed so they cannot collide), so the state
 * stays one plain JSON object and a checkpoint written before the layer was
 * turned on still restores (its fields start afresh).
 *
 * Drift (`drift: 'REBASELINE'`). Each event past warm-up feeds its residual
 * to the Page-Hinkley test (drift.ts). When the test fires, that event's
 * verdict carries `drift: 'DETECTED'` and does not alarm (the point of a
 * re-baseline is to stop alerting on the new normal: the alarms already
 * raised while the change was building up stand); the series' baseline is
 * dropped and the event becomes the first value of a new one. The series
 * warms up again (no alarms, as for a new series), and the event on which it
 * is ready again carries `drift: 'CLEARED'`. The test itself restarts after
 * the warm-up. The learned threshold (below) is kept across a re-baseline:
 * scores are in sigmas of the baseline, whatever its level.
 *
 * Adaptive threshold (`targetAlertRate`). Each score past warm-up feeds a P²
 * estimator of its (1 - rate) quantile (quantile.ts), and an event alarms
 * when its score is above the quantile learnt from the events before it (so
 * a spike cannot raise the bar it is judged by). Until ADAPTIVE_MIN_EVENTS /
 * rate scores are seen, the estimate of so rare a quantile is not yet
 * trustworthy and the kind's default threshold applies. The threshold never
 * goes below ADAPTIVE_FLOOR sigmas, so a constant or nearly constant series
 * (scores all about 0) does not alarm on rounding noise. The verdict's band
 * is drawn at the threshold used.
 */

/** A learned threshold is used once there are this many scores per expected alarm (10 / rate). */
export const ADAPTIVE_MIN_EVENTS = 10;
/** Lowest learned threshold, in sigmas of the kind's scale. */
export const ADAPTIVE_FLOOR = 1;

export interface AdaptedState {
  /** 1 from a detected drift until the series is ready again. Only present with drift on. */
  drifting?: number;
}

interface Options {
  /** The kind's name, for state errors. */
  kind: string;
  /** The kind's default threshold: used until a target rate's threshold is learned. */
  defaultThreshold: number;
}

export function adaptStatistical<S extends object>(
  base: DetectorModel<S>,
  p: Record<string, unknown>,
  options: Options,
): DetectorModel<S> {
  const rate = typeof p.targetAlertRate === 'number' ? p.targetAlertRate : null;
  const driftOn = p.drift === 'REBASELINE';
  if (rate === null && !driftOn) return base;

  const settings: DriftSettings = driftSettings(
    typeof p.driftThreshold === 'number' ? p.driftThreshold : DRIFT_THRESHOLD_DEFAULT,
    typeof p.driftMinEvents === 'number' ? p.driftMinEvents : DRIFT_MIN_EVENTS_DEFAULT,
  );
  const quantile = rate === null ? 1 : 1 - rate;
  const minScores = rate === null ? 0 : Math.ceil(ADAPTIVE_MIN_EVENTS / rate);
  const rateText = rate === null ? '' : `${fmt(rate * 100, 3)}%`;
  const { kind, defaultThreshold } = options;

  type Full = S & AdaptedState & Partial<DriftState> & Partial<QuantileState>;

  function extras(): AdaptedState & Partial<DriftState> & Partial<QuantileState> {
    return { ...(driftOn ? { drifting: 0, ...newDriftState() } : {}), ...(rate !== null ? newQuantileState() : {}) };
  }

  const notes = {
    pending: `the default until the ${rateText} alert-rate threshold is learnt, after ${minScores} scores`,
    learned: `learnt for a ${rateText} alert rate`,
    floor: `the floor: the ${rateText} alert-rate threshold learnt is lower`,
  };

  /** The threshold for the next score, and where it comes from. */
  function retarget(s: Full, verdict: DeviationVerdict): void {
    if ((s.qCount as number) < minScores) {
      verdict.retarget(defaultThreshold, notes.pending);
      return;
    }
    const learned = quantileEstimate(s as QuantileState, quantile) ?? defaultThreshold;
    if (learned < ADAPTIVE_FLOOR) verdict.retarget(ADAPTIVE_FLOOR, notes.floor);
    else verdict.retarget(learned, notes.learned);
  }

  return {
    kind: base.kind,
    newState: () => Object.assign(base.newState(), extras()) as S,
    ready: (s) => base.ready(s),
    tick: (s, now) => base.tick(s, now),
    drifting: (s) => (s as Full).drifting === 1,

    observe(state, value, time): Verdict {
      const s = state as Full;
      // An unusable value leaves the state alone; the kind says so.
      if (!isUsableValue(value)) return base.observe(state, value, time);
      const wasReady = base.ready(state);
      const verdict = base.observe(state, value, time);
      if (!(verdict instanceof DeviationVerdict)) return clearedIfReady(s, verdict);

      if (rate !== null) {
        retarget(s, verdict);
        if (wasReady) updateQuantile(s as QuantileState, quantile, verdict.score);
      }

      if (driftOn && wasReady && verdict.ready) {
        const found = updateDrift(s as DriftState, verdict.residual, verdict.expected ?? 0, settings);
        if (found) {
          // Re-baseline: drop the kind's baseline, keep this value as the first of the new one.
          const keep = rate !== null ? { qHeights: s.qHeights, qPositions: s.qPositions, qCount: s.qCount } : {};
          Object.assign(state, base.newState(), keep);
          resetDrift(s as DriftState);
          s.drifting = 1;
          base.observe(state, value, time);
          const note = `${describeDrift(found, settings)}; re-baselining: the series learns its new level and alerts again after its warm-up`;
          verdict.markDrift('DETECTED', note, true);
          return verdict;
        }
      }
      return clearedIfReady(s, verdict);
    },

    restore(saved) {
      const restored = base.restore(saved) as Full;
      const o = checkObject(kind, saved);
      if (driftOn) {
        const drifting = o.drifting === undefined ? 0 : checkNumber(kind, o, 'drifting', { integer: true, min: 0, max: 1 });
        Object.assign(restored, { drifting }, restoreDrift(kind, o));
      }
      if (rate !== null) Object.assign(restored, restoreQuantile(kind, o));
      return restored as S;
    },
  };

  /** After a re-baseline, the event that ends the new warm-up says the drift is over. */
  function clearedIfReady(s: Full, verdict: Verdict): Verdict {
    if (s.drifting !== 1 || !base.ready(s as S)) return verdict;
    s.drifting = 0;
    const note = 'drift cleared: the series has learnt its new baseline and may alert again';
    if (verdict instanceof DeviationVerdict) {
      verdict.markDrift('CLEARED', note, false);
      return verdict;
    }
    return { ...verdict, explanation: `${verdict.explanation}; ${note}`, drift: 'CLEARED' };
  }
}
