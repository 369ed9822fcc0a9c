import type { DetectorModel, Verdict } from './detector.ts';
import { capScore, fmt } from './format.ts';
import { checkNullableNumber, checkObject } from './state-check.ts';

/**
 * FRESHNESS: alerts on silence. `observe` records the latest event time and
 * never alerts; `tick(state, now)` returns an anomalous verdict once per
 * silence, when now - last > maxGapSeconds. The silence is identified by the
 * time of the event that started it, so a later event re-arms the detector.
 */
export interface FreshnessState {
  /** Latest event time seen (epoch ms), null before the first event. */
  last: number | null;
  /** The `last` whose silence was already reported, null when armed. */
  alertedFor: number | null;
}

export function createFreshness(p: Record<string, unknown>, field: string): DetectorModel<FreshnessState> {
  const maxGapSeconds = p.maxGapSeconds as number;
  const limitMs = maxGapSeconds * 1000;

  return {
    kind: 'FRESHNESS',
    newState: () => ({ last: null, alertedFor: null }),
    ready: () => true,

    observe(s, _value, time): Verdict {
      const previous = s.last;
      if (Number.isFinite(time) && (previous === null || time > previous)) s.last = time + 0;
      const gap = previous !== null && Number.isFinite(time) ? Math.max(0, time - previous) / 1000 : null;
      return {
        score: 0,
        anomalous: false,
        expected: null,
        lower: null,
        upper: maxGapSeconds,
        explanation:
          gap === null
            ? `${field} event at ${describeTime(time)}; first event of the series (limit ${fmt(maxGapSeconds)} s)`
            : `${field} event ${fmt(gap, 6)} s after the previous one (limit ${fmt(maxGapSeconds)} s)`,
      };
    },

    tick(s, now): Verdict | null {
      if (s.last === null || !Number.isFinite(now)) return null;
      const gapMs = now - s.last;
      if (!(gapMs > limitMs) || s.alertedFor === s.last) return null;
      s.alertedFor = s.last;
      const gap = gapMs / 1000;
      return {
        score: capScore(gap / maxGapSeconds),
        anomalous: true,
        expected: null,
        lower: null,
        upper: maxGapSeconds,
        explanation: `no ${field} event for ${fmt(gap, 6)} s (limit ${fmt(maxGapSeconds)} s; last at ${describeTime(s.last)})`,
      };
    },

    restore(saved) {
      const o = checkObject('FRESHNESS', saved);
      return { last: checkNullableNumber('FRESHNESS', o, 'last'), alertedFor: checkNullableNumber('FRESHNESS', o, 'alertedFor') };
    },
  };
}

function describeTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
