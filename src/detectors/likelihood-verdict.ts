import type { Verdict } from './detector.ts';
import { fmt, plainZero } from './format.ts';
import type { ContextVerdict } from './likelihood-context.ts';
import { LIKELIHOOD_SCALES } from './likelihood-state.ts';

/** A LIKELIHOOD detector's settings that its explanations quote. */
export interface LikelihoodWords {
  field: string;
  threshold: number;
  warmup: number;
  novelty: number;
  quiet: number;
}

/**
 * Why a verdict scored what it did, with the figures the words need:
 *   first     no figures
 *   warming   a = events seen
 *   quiet     a = events left in the quiet period
 *   context   the context channel's verdict
 *   beyond    a = lowest and b = highest value seen, c = the excess as a share of the range
 *   scale     a = events averaged, b = the scale's index, c = its z, d = its surprise
 */
export type LikelihoodReason = 'first' | 'warming' | 'quiet' | 'context' | 'beyond' | 'scale';

/**
 * The verdict of one event. Scoring an event builds this one object: the
 * explanation is written from its fields only when read (the worker reads it
 * for anomalies alone), and no closure is made per event.
 */
export class LikelihoodVerdict implements Verdict {
  readonly lower = null;
  readonly upper = null;
  readonly expected: number | null;

  constructor(
    private readonly words: LikelihoodWords,
    readonly score: number,
    readonly anomalous: boolean,
    expected: number | null,
    private readonly reason: LikelihoodReason,
    private readonly x: number,
    private readonly a = 0,
    private readonly b = 0,
    private readonly c = 0,
    private readonly d = 0,
    private readonly context: ContextVerdict | null = null,
  ) {
    this.expected = expected === null ? null : plainZero(expected);
  }

  get explanation(): string {
    const { words } = this;
    const head = `${words.field} ${fmt(this.x)}: ${this.why()}`;
    if (this.reason === 'first' || this.reason === 'warming' || this.reason === 'quiet') return head;
    const quietNote = this.anomalous && words.quiet > 0 ? `, quiet for the next ${words.quiet} events` : '';
    return `${head}; threshold ${fmt(words.threshold)}${quietNote}`;
  }

  private why(): string {
    const { a, b, c, d, words } = this;
    switch (this.reason) {
      case 'first':
        return 'first value of the series, no baseline yet';
      case 'warming':
        return `warming up, ${a} of ${words.warmup} events seen`;
      case 'quiet':
        return `quiet after an alert, ${a} more events`;
      case 'context':
        return this.context?.why() ?? 'a context channel fired';
      case 'beyond':
        return `${fmt(this.x)} is outside the range seen so far (${fmt(a)} to ${fmt(b)}) by ${fmt(c * 100, 3)}% of the range beyond the ${fmt(words.novelty * 100, 3)}% margin`;
      case 'scale':
        return `the last ${a}-event average of its ${LIKELIHOOD_SCALES[b]} deviation is ${fmt(c, 3)} sd above its long-run level (surprise ${fmt(d, 3)}: about 1 in ${fmt(10 ** Math.min(d, 300), 2)})`;
    }
  }
}
