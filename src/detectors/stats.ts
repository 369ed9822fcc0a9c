import type { Verdict } from './detector.ts';
import { capScore, fmt, plainZero } from './format.ts';

/** Which deviations count, as in the params. */
export type Direction = 'BOTH' | 'UP' | 'DOWN';

/** Settings every statistical kind has. */
export interface StatisticalParams {
  threshold: number;
  warmup: number;
  direction: Direction;
}

export function statisticalParams(p: Record<string, unknown>): StatisticalParams {
  return { threshold: p.threshold as number, warmup: p.warmup as number, direction: p.direction as Direction };
}

/**
 * The spread a score divides by, floored so a constant baseline followed by
 * a change scores high instead of dividing by zero. The relative part
 * (1e-9 of the baseline) sits far above floating-point rounding (about 2e-16
 * relative) yet far below any real spread: a series near 1e9 with noise of 1
 * keeps its own sd, and a constant 1e9 followed by 1e9 + 1 still scores 1000.
 */
export function floorScale(scale: number, center: number): number {
  return Math.max(scale, 1e-9, 1e-9 * Math.abs(center));
}

export interface Deviation {
  field: string;
  value: number;
  /** Baseline value. */
  expected: number;
  /** Spread, already floored (floorScale). */
  scale: number;
  params: StatisticalParams;
  /** Past warm-up: the verdict may be anomalous. */
  ready: boolean;
  /** Values seen before this one, for the warm-up note. */
  seen: number;
  /** Minimum values before alerting, for the warm-up note. */
  warmupNeeded: number;
  /** "sigma" or "robust sigma". */
  unit: string;
  /** E.g. "the 300-event mean 140" (a function: formatted only when an explanation is read). */
  baseline: () => string;
  /** E.g. "sd 12.6". */
  detail: () => string;
}

/**
 * The verdict of a value against a baseline and spread: directional score,
 * band at the threshold, explanation. The explanation is written only when
 * read: the worker reads it for anomalies alone, and formatting numbers for
 * every event was the largest cost of scoring one.
 */
export function deviationVerdict(d: Deviation): Verdict {
  return new DeviationVerdict(d);
}

class DeviationVerdict implements Verdict {
  readonly score: number;
  readonly anomalous: boolean;
  readonly expected: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  private readonly signed: number;

  constructor(private readonly d: Deviation) {
    const { value, expected, scale, params } = d;
    this.signed = (value - expected) / scale;
    const raw = params.direction === 'UP' ? this.signed : params.direction === 'DOWN' ? -this.signed : Math.abs(this.signed);
    this.score = capScore(raw);
    this.anomalous = d.ready && this.score > params.threshold;
    const half = params.threshold * scale;
    this.lower = params.direction === 'UP' ? null : plainZero(expected - half);
    this.upper = params.direction === 'DOWN' ? null : plainZero(expected + half);
    this.expected = plainZero(expected);
  }

  get explanation(): string {
    const { d, signed } = this;
    const { value, params } = d;
    const diff = value - d.expected;
    let text: string;
    if (diff === 0) {
      text = `${d.field} ${fmt(value)} equals ${d.baseline()} (${d.detail()}; threshold ${fmt(params.threshold)})`;
    } else {
      const side = diff > 0 ? 'above' : 'below';
      text = `${d.field} ${fmt(value)} is ${fmt(capScore(Math.abs(signed)), 2)} ${d.unit} ${side} ${d.baseline()} (${d.detail()}; threshold ${fmt(params.threshold)})`;
      if (params.direction === 'UP' && diff < 0) text += '; only rises count';
      if (params.direction === 'DOWN' && diff > 0) text += '; only falls count';
    }
    if (!d.ready) text += `; warming up, ${d.seen} of ${d.warmupNeeded} events seen`;
    return text;
  }
}

/** The verdict of a value that has no baseline to compare with yet. */
export function noBaselineVerdict(field: string, value: number, why: string): Verdict {
  return { score: 0, anomalous: false, expected: null, lower: null, upper: null, explanation: `${field} ${fmt(value)}: ${why}` };
}

/** The verdict of a value a statistical detector cannot use (NaN, infinite, or beyond MAX_ABS_VALUE); the state is left unchanged. */
export function ignoredVerdict(field: string, value: number): Verdict {
  return {
    score: 0,
    anomalous: false,
    expected: null,
    lower: null,
    upper: null,
    explanation: `${field} ${String(value)} is not a usable number (finite, magnitude at most 1e150); ignored`,
  };
}
