import type { Verdict } from './detector.ts';
import { capScore, fmt, plainZero } from './format.ts';

/** Which deviations count, as in the params. */
export type Direction = 'BOTH' | 'UP' | 'DOWN';

/** Settings every statistical kind has. */
export interface StatisticalParams {
  /** The fixed threshold; with a target alert rate, the kind's default (used until the rate's threshold is learned). */
  threshold: number;
  warmup: number;
  direction: Direction;
}

export function statisticalParams(p: Record<string, unknown>): StatisticalParams {
  // A null threshold goes with targetAlertRate: the adaptation (adapt.ts) sets each verdict's threshold.
  const threshold = typeof p.threshold === 'number' ? p.threshold : Number.POSITIVE_INFINITY;
  return { threshold, warmup: p.warmup as number, direction: p.direction as Direction };
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
  /** The kind's words for its baseline and spread: one object per detector, read only when an explanation is. */
  text: DeviationText;
  /** Values the baseline is made of (ZSCORE, MAD), or the seasonal slot (SEASONAL); for the words only. */
  count: number;
  /** The kind's own spread before flooring (sd, MAD); for the words only. */
  spread: number;
}

/**
 * How a kind words its baseline and spread, e.g. "the 300-event mean 140"
 * and "sd 12.6". The words are built from the deviation when an explanation
 * is read, so scoring an event allocates no closure and formats no number.
 */
export interface DeviationText {
  baseline(d: Deviation): string;
  detail(d: Deviation): string;
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

/**
 * A deviation verdict. Its threshold can be replaced after construction
 * (`retarget`, for a learned threshold) and it can be marked with a drift
 * event (`markDrift`); both happen before the verdict leaves the detector.
 */
export class DeviationVerdict implements Verdict {
  readonly score: number;
  anomalous: boolean;
  readonly expected: number | null;
  lower: number | null;
  upper: number | null;
  /** Only set (as an own property) on the events that carry a drift event. */
  declare drift?: 'DETECTED' | 'CLEARED';
  private readonly signed: number;
  private threshold: number;
  /** Says where a learned threshold came from, e.g. "learned for a 1% alert rate". */
  private thresholdNote: string | undefined;
  /** Appended to the explanation, e.g. the drift that was detected. */
  private note: string | undefined;

  constructor(private readonly d: Deviation) {
    const { value, expected, scale, params } = d;
    this.signed = (value - expected) / scale;
    const raw = params.direction === 'UP' ? this.signed : params.direction === 'DOWN' ? -this.signed : Math.abs(this.signed);
    this.score = capScore(raw);
    this.threshold = params.threshold;
    this.anomalous = d.ready && this.score > this.threshold;
    const half = this.threshold * scale;
    this.lower = params.direction === 'UP' ? null : plainZero(expected - half);
    this.upper = params.direction === 'DOWN' ? null : plainZero(expected + half);
    this.expected = plainZero(expected);
  }

  /** True when the value was judged past warm-up. */
  get ready(): boolean {
    return this.d.ready;
  }

  /** value - expected, in the value's unit. */
  get residual(): number {
    return this.d.value - this.d.expected;
  }

  /** The floored spread the score divided by. */
  get scale(): number {
    return this.d.scale;
  }

  /** Judges the score against `threshold` instead (band and alarm follow); `note` says where it came from. */
  retarget(threshold: number, note: string): void {
    const { d } = this;
    this.threshold = threshold;
    this.thresholdNote = note;
    this.anomalous = d.ready && this.score > threshold;
    const half = threshold * d.scale;
    if (this.lower !== null) this.lower = plainZero(d.expected - half);
    if (this.upper !== null) this.upper = plainZero(d.expected + half);
  }

  /** Marks a drift event; `quiet` withdraws the alarm (a re-baseline does not alert). */
  markDrift(drift: 'DETECTED' | 'CLEARED', note: string, quiet: boolean): void {
    this.drift = drift;
    this.note = note;
    if (quiet) this.anomalous = false;
  }

  get explanation(): string {
    const { d, signed } = this;
    const { value, params } = d;
    const diff = value - d.expected;
    const threshold = this.thresholdNote === undefined ? fmt(this.threshold) : `${fmt(this.threshold)}, ${this.thresholdNote}`;
    let text: string;
    if (diff === 0) {
      text = `${d.field} ${fmt(value)} equals ${d.text.baseline(d)} (${d.text.detail(d)}; threshold ${threshold})`;
    } else {
      const side = diff > 0 ? 'above' : 'below';
      text = `${d.field} ${fmt(value)} is ${fmt(capScore(Math.abs(signed)), 2)} ${d.unit} ${side} ${d.text.baseline(d)} (${d.text.detail(d)}; threshold ${threshold})`;
      if (params.direction === 'UP' && diff < 0) text += '; only rises count';
      if (params.direction === 'DOWN' && diff > 0) text += '; only falls count';
    }
    if (!d.ready) text += `; warming up, ${d.seen} of ${d.warmupNeeded} events seen`;
    if (this.note !== undefined) text += `; ${this.note}`;
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
