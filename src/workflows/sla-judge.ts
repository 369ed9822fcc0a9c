import { capScore, fmt } from '../detectors/format.ts';
import type { SlaObjective } from '../generated/prisma/enums.ts';

/**
 * Whether an SLA is met, decided without I/O so the rules can be read and
 * tested on their own. The evaluator (sla-evaluation.ts) gathers the
 * measurements and writes what a change of state calls for.
 */

/** What the evaluator measured; each objective reads only its own part. */
export interface SlaMeasurements {
  now: Date;
  /** Names, for the explanation. */
  stream: string;
  sla: string;
  windowSeconds: number;
  /** FRESHNESS: Kafka timestamp of the newest event the workers have seen (null: none ever). */
  lastEventAt?: Date | null;
  /** FRESHNESS with no event ever: silence is counted from when the SLA was registered. */
  slaCreatedAt?: Date;
  /** INGESTION_LAG: messages behind the end of the topic, summed over partitions. */
  ingestionLag?: number;
  /** ERROR_RATE, COMPLETENESS, ANOMALY_RATE: counts over the window. */
  events?: number;
  /** Events refused (dead letters: malformed, contract violations, oversized). */
  deadLetters?: number;
  /** Distinct events at least one detector found anomalous (SLA breaches and SHADOW detectors not counted). */
  anomalousEvents?: number;
}

export interface SlaJudgement {
  met: boolean;
  /** The measured value (null: nothing to measure, e.g. no event in the window). */
  current: number | null;
  /** For people: what was measured against what was promised. */
  explanation: string;
}

/** Whether the threshold is an upper bound ("at most") or a lower one ("at least"). */
export function boundOf(objective: SlaObjective): 'max' | 'min' {
  return objective === 'COMPLETENESS' ? 'min' : 'max';
}

/** The bounds an SLA breach anomaly records: the threshold on its side. */
export function boundsOf(objective: SlaObjective, threshold: number): { lower: number | null; upper: number | null } {
  return boundOf(objective) === 'min' ? { lower: threshold, upper: null } : { lower: null, upper: threshold };
}

/** As THRESHOLD detectors score: 1 + the distance past the bound / max(|bound|, 1), so a breach scores above 1. */
export function breachScore(threshold: number, current: number): number {
  return capScore(1 + Math.abs(current - threshold) / Math.max(Math.abs(threshold), 1));
}

const seconds = (s: number) => `${fmt(s, 3)} s`;
const percent = (fraction: number) => `${fmt(fraction * 100, 3)}%`;
/** Message counts in full: 123456, not 1.235e5. */
const messages = (n: number) => (Number.isInteger(n) ? String(n) : fmt(n));

/** 300 -> "5 min", 7200 -> "2 h", 90 -> "90 s". */
export function describeWindow(windowSeconds: number): string {
  if (windowSeconds % 86_400 === 0) return `${windowSeconds / 86_400} d`;
  if (windowSeconds % 3600 === 0) return `${windowSeconds / 3600} h`;
  if (windowSeconds % 60 === 0) return `${windowSeconds / 60} min`;
  return `${windowSeconds} s`;
}

function promise(objective: SlaObjective, threshold: number): string {
  switch (objective) {
    case 'FRESHNESS':
      return `at most ${seconds(threshold)} without an event`;
    case 'INGESTION_LAG':
      return `at most ${messages(threshold)} messages behind`;
    case 'ERROR_RATE':
      return `at most ${percent(threshold)} dead letters`;
    case 'COMPLETENESS':
      return `at least ${percent(threshold)} valid`;
    case 'ANOMALY_RATE':
      return `at most ${percent(threshold)} anomalous`;
  }
}

/**
 * FRESHNESS: seconds since the newest event (none ever: since the SLA was
 * registered), breached above the threshold. INGESTION_LAG: messages behind,
 * breached above. ERROR_RATE (dead letters / events), ANOMALY_RATE
 * (anomalous events / events): breached above; COMPLETENESS (valid events /
 * events): breached below. A rate over a window with no event is met, with no
 * current value: there is nothing to judge (silence is FRESHNESS's business).
 */
export function judge(objective: SlaObjective, threshold: number, m: SlaMeasurements): SlaJudgement {
  const terms = `(SLA '${m.sla}': ${promise(objective, threshold)})`;
  const over = `over the last ${describeWindow(m.windowSeconds)}`;
  const verdict = (current: number, said: string): SlaJudgement => {
    const met = boundOf(objective) === 'min' ? current >= threshold : current <= threshold;
    return { met, current, explanation: `${said} ${terms}` };
  };

  switch (objective) {
    case 'FRESHNESS': {
      const nowMs = m.now.getTime();
      if (m.lastEventAt) {
        const silent = Math.max(0, (nowMs - m.lastEventAt.getTime()) / 1000);
        return silent <= threshold
          ? verdict(silent, `last event on stream ${m.stream} ${seconds(silent)} ago`)
          : verdict(silent, `no event on stream ${m.stream} for ${seconds(silent)}`);
      }
      const since = Math.max(0, (nowMs - (m.slaCreatedAt ?? m.now).getTime()) / 1000);
      return verdict(since, `no event on stream ${m.stream} since the SLA was registered ${seconds(since)} ago`);
    }
    case 'INGESTION_LAG': {
      const lag = m.ingestionLag ?? 0;
      return verdict(lag, `stream ${m.stream} is ${messages(lag)} message${lag === 1 ? '' : 's'} behind`);
    }
    case 'ERROR_RATE':
    case 'COMPLETENESS':
    case 'ANOMALY_RATE': {
      const events = m.events ?? 0;
      if (events <= 0) return { met: true, current: null, explanation: `no event on stream ${m.stream} ${over}: nothing to judge ${terms}` };
      if (objective === 'ERROR_RATE') {
        const bad = Math.min(m.deadLetters ?? 0, events);
        return verdict(bad / events, `${percent(bad / events)} of events on stream ${m.stream} were dead letters ${over} (${bad} of ${events})`);
      }
      if (objective === 'COMPLETENESS') {
        const valid = Math.max(0, events - (m.deadLetters ?? 0));
        return verdict(valid / events, `${percent(valid / events)} of events on stream ${m.stream} were valid ${over} (${valid} of ${events})`);
      }
      const anomalous = Math.min(m.anomalousEvents ?? 0, events);
      return verdict(
        anomalous / events,
        `${percent(anomalous / events)} of events on stream ${m.stream} were anomalous ${over} (${anomalous} of ${events})`,
      );
    }
  }
}

/** What an SLA breach anomaly's `field` says was measured (the names StreamHealth uses where it has them). */
export function metricOf(objective: SlaObjective): string {
  switch (objective) {
    case 'FRESHNESS':
      return 'freshnessSeconds';
    case 'INGESTION_LAG':
      return 'ingestionLag';
    case 'ERROR_RATE':
      return 'errorRate';
    case 'COMPLETENESS':
      return 'completeness';
    case 'ANOMALY_RATE':
      return 'anomalyRate';
  }
}
