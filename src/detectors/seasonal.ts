import type { DetectorModel } from './detector.ts';
import { fmt, isUsableValue } from './format.ts';
import { checkNumber, checkNumbers, checkObject, DetectorStateError } from './state-check.ts';
import { type DeviationText, deviationVerdict, floorScale, ignoredVerdict, statisticalParams } from './stats.ts';

/** Mean absolute deviation of a normal distribution times this is its standard deviation. */
const MEAN_ABS_TO_SIGMA = Math.sqrt(Math.PI / 2);

/**
 * One-step forecast errors a SEASONAL series must have before it may alert,
 * on top of `warmup`: the residual scale needs a few samples to mean anything.
 */
export const SEASONAL_MIN_RESIDUALS = 10;

/**
 * Weight of each new absolute residual in the residual scale: 1/period,
 * clamped to 0.001..0.1, so the scale averages over roughly the last period
 * (at least 10, at most 1000 events).
 */
export function residualRate(period: number): number {
  return Math.min(0.1, Math.max(0.001, 1 / period));
}

/**
 * SEASONAL: additive Holt-Winters over a season of `period` events.
 * The first `period` values are collected in `season`; then the level is
 * their mean, the trend 0 and each seasonal component the value's offset
 * from that mean. From then on each value is scored against the one-step
 * forecast level + trend + season[slot], and the residual scale is an
 * exponentially weighted mean of absolute residuals (bias-corrected by its
 * gathered weight) times sqrt(pi/2), so scores read as sigmas.
 */
export interface SeasonalState {
  n: number;
  level: number;
  trend: number;
  /** Seasonal components by slot (n % period); during the first season, the raw values. */
  season: number[];
  /** Exponentially weighted sum of absolute residuals ... */
  absSum: number;
  /** ... and of their weights; absSum / weight is the weighted mean. */
  weight: number;
}

export function createSeasonal(p: Record<string, unknown>, field: string): DetectorModel<SeasonalState> {
  const period = p.period as number;
  const alpha = p.alpha as number;
  const beta = p.beta as number;
  const gamma = p.gamma as number;
  const sp = statisticalParams(p);
  const text: DeviationText = {
    baseline: (d) => `the seasonal forecast ${fmt(d.expected)}`,
    detail: (d) => `slot ${d.count + 1} of ${period}, residual sd ${fmt(d.spread)}`,
  };
  const rho = residualRate(period);
  const warmupNeeded = Math.max(sp.warmup, period + SEASONAL_MIN_RESIDUALS);

  return {
    kind: 'SEASONAL',
    newState: () => ({ n: 0, level: 0, trend: 0, season: [], absSum: 0, weight: 0 }),
    ready: (s) => s.n >= warmupNeeded,
    tick: () => null,

    observe(s, input) {
      if (!isUsableValue(input)) return ignoredVerdict(field, input);
      const value = input + 0;

      if (s.n < period) {
        s.season.push(value);
        s.n += 1;
        if (s.n === period) {
          let total = 0;
          for (const x of s.season) total += x;
          const level = total / period;
          for (let i = 0; i < period; i++) s.season[i] = (s.season[i] as number) - level;
          s.level = level;
          s.trend = 0;
        }
        return {
          score: 0,
          anomalous: false,
          expected: null,
          lower: null,
          upper: null,
          explanation: `${field} ${fmt(value)}: learning the first season, ${s.n} of ${period} events seen`,
        };
      }

      const slot = s.n % period;
      const seasonal = s.season[slot] as number;
      const forecast = s.level + s.trend + seasonal;
      const residual = value - forecast;
      const scale = s.weight > 0 ? (MEAN_ABS_TO_SIGMA * s.absSum) / s.weight : 0;
      const verdict = deviationVerdict({
        field,
        value,
        expected: forecast,
        scale: floorScale(scale, forecast),
        params: sp,
        ready: s.n >= warmupNeeded,
        seen: s.n,
        warmupNeeded,
        unit: 'sigma',
        text,
        count: slot,
        spread: scale,
      });

      const level = alpha * (value - seasonal) + (1 - alpha) * (s.level + s.trend);
      s.trend = beta * (level - s.level) + (1 - beta) * s.trend;
      s.season[slot] = gamma * (value - level) + (1 - gamma) * seasonal;
      s.level = level;
      s.absSum = (1 - rho) * s.absSum + rho * Math.abs(residual);
      s.weight = (1 - rho) * s.weight + rho;
      s.n += 1;
      return verdict;
    },

    restore(saved) {
      const o = checkObject('SEASONAL', saved);
      const s: SeasonalState = {
        n: checkNumber('SEASONAL', o, 'n', { integer: true, min: 0 }),
        level: checkNumber('SEASONAL', o, 'level'),
        trend: checkNumber('SEASONAL', o, 'trend'),
        season: checkNumbers('SEASONAL', o, 'season', period),
        absSum: checkNumber('SEASONAL', o, 'absSum', { min: 0 }),
        weight: checkNumber('SEASONAL', o, 'weight', { min: 0, max: 1 + 1e-9 }),
      };
      if (s.season.length !== Math.min(s.n, period)) {
        throw new DetectorStateError('SEASONAL', `season has ${s.season.length} components, expected ${Math.min(s.n, period)}`);
      }
      return s;
    },
  };
}
