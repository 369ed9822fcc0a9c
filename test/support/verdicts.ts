import type { Verdict } from '../../src/detectors/detector.ts';

/** What a reader of a verdict sees, read at once (explanations are formatted lazily, so compare this). */
export const visible = (v: Verdict) => ({
  score: v.score,
  anomalous: v.anomalous,
  expected: v.expected,
  lower: v.lower,
  upper: v.upper,
  explanation: v.explanation,
  drift: v.drift,
});
