import type { DetectorModel, Verdict } from './detector.ts';
import { capScore, fmt } from './format.ts';
import { checkObject } from './state-check.ts';

/** THRESHOLD keeps nothing per series. */
export type ThresholdState = Record<string, never>;

/**
 * THRESHOLD: fixed bounds, alerting from the first event. A value strictly
 * below `min` or above `max` is anomalous with score 1 + (distance beyond the
 * bound) / max(|bound|, 1), so any breach scores above 1; inside the bounds
 * the score is 0. NaN is ignored (score 0).
 */
export function createThreshold(p: Record<string, unknown>, field: string): DetectorModel<ThresholdState> {
  const min = p.min as number | null;
  const max = p.max as number | null;
  const range =
    min !== null && max !== null ? `[${fmt(min)}, ${fmt(max)}]` : min !== null ? `at or above ${fmt(min)}` : `at or below ${fmt(max ?? 0)}`;

  const verdict = (score: number, anomalous: boolean, explanation: string): Verdict => ({
    score,
    anomalous,
    expected: null,
    lower: min,
    upper: max,
    explanation,
  });

  return {
    kind: 'THRESHOLD',
    newState: () => ({}),
    ready: () => true,
    tick: () => null,

    observe(_s, value): Verdict {
      // Plain literals, no object spread: spread is far slower on this hot path.
      if (Number.isNaN(value)) {
        return verdict(0, false, `${field} NaN is not a number; ignored`);
      }
      if (max !== null && value > max) {
        return verdict(
          capScore(1 + (value - max) / Math.max(Math.abs(max), 1)),
          true,
          `${field} ${fmt(value)} is above the maximum ${fmt(max)} by ${fmt(value - max)}`,
        );
      }
      if (min !== null && value < min) {
        return verdict(
          capScore(1 + (min - value) / Math.max(Math.abs(min), 1)),
          true,
          `${field} ${fmt(value)} is below the minimum ${fmt(min)} by ${fmt(min - value)}`,
        );
      }
      return verdict(0, false, `${field} ${fmt(value)} is within ${range}`);
    },

    restore(saved) {
      checkObject('THRESHOLD', saved);
      return {};
    },
  };
}
