import type { DetectorKind } from '../generated/prisma/enums.ts';
import type { DetectorModel, Verdict } from './detector.ts';
import { fmt, isUsableValue } from './format.ts';
import { STATISTICAL_KINDS } from './params.ts';
import { checkNumber, checkObject, DetectorStateError } from './state-check.ts';
import { ignoredVerdict } from './stats.ts';

/**
 * ENSEMBLE: member detectors (made by the same factory) each keep their own
 * state inside the ensemble's state. A member votes when it is past its own
 * warm-up before the value arrives; the score is the share of voting members
 * that alarm, by weight (WEIGHTED) or by count (VOTE), and the ensemble
 * alarms when that share is at or above `threshold` and the series is past
 * the ensemble's own `warmup`. expected/lower/upper come from the first
 * statistical member (else the first member).
 *
 * Drift: members with drift detection re-baseline on their own. The
 * ensemble's verdict carries drift DETECTED when a member's does, and
 * CLEARED when a member's does and no member is drifting any more, so the
 * ensemble is drifting while any member is.
 */
export interface EnsembleState {
  n: number;
  /** Member states, in member order. */
  members: unknown[];
}

type Factory = (kind: DetectorKind, params: Record<string, unknown>, field: string) => DetectorModel;

interface Member {
  kind: DetectorKind;
  weight: number;
  model: DetectorModel;
}

/** Shares within this of the threshold count as reaching it (2/3 vs 0.6666666666666666). */
const SHARE_EPSILON = 1e-12;

export function createEnsemble(p: Record<string, unknown>, field: string, factory: Factory): DetectorModel<EnsembleState> {
  const combine = p.combine as 'WEIGHTED' | 'VOTE';
  const threshold = p.threshold as number;
  const warmup = p.warmup as number;
  const members: Member[] = (p.members as { kind: DetectorKind; params: Record<string, unknown>; weight: number }[]).map((m) => ({
    kind: m.kind,
    weight: combine === 'VOTE' ? 1 : m.weight,
    model: factory(m.kind, m.params, field),
  }));
  const statistical: readonly string[] = STATISTICAL_KINDS;
  const firstStatistical = members.findIndex((m) => statistical.includes(m.kind));
  const bandSource = firstStatistical >= 0 ? firstStatistical : 0;

  /** True while any member is drifting. */
  function drifting(s: EnsembleState): boolean {
    for (let i = 0; i < members.length; i++) {
      if ((members[i] as Member).model.drifting?.(s.members[i]) === true) return true;
    }
    return false;
  }

  return {
    kind: 'ENSEMBLE',
    newState: () => ({ n: 0, members: members.map((m) => m.model.newState()) }),
    ready: (s) => s.n >= warmup,
    tick: () => null,

    observe(s, value, time): Verdict {
      if (!isUsableValue(value)) return ignoredVerdict(field, value);
      let votingWeight = 0;
      let alarmWeight = 0;
      let voters = 0;
      let warming = 0;
      const alarms: string[] = [];
      let band: Verdict | undefined;
      let detected = false;
      let cleared = false;
      for (let i = 0; i < members.length; i++) {
        const m = members[i] as Member;
        const state = s.members[i];
        const votes = m.model.ready(state);
        const v = m.model.observe(state, value, time);
        if (i === bandSource) band = v;
        if (v.drift === 'DETECTED') detected = true;
        else if (v.drift === 'CLEARED') cleared = true;
        if (!votes) {
          warming += 1;
          continue;
        }
        voters += 1;
        votingWeight += m.weight;
        if (v.anomalous) {
          alarmWeight += m.weight;
          alarms.push(`${m.kind} (${v.explanation})`);
        }
      }
      const ready = s.n >= warmup;
      s.n += 1;

      const share = votingWeight > 0 ? alarmWeight / votingWeight : 0;
      const anomalous = ready && voters > 0 && share >= threshold - SHARE_EPSILON;
      const how = combine === 'VOTE' ? 'votes' : `weight ${fmt(alarmWeight)} of ${fmt(votingWeight)}`;
      let text = `${alarms.length} of ${voters} voting members alarmed on ${field} ${fmt(value)} (${how}, ${fmt(share * 100, 3)}%; threshold ${fmt(threshold * 100, 3)}%)`;
      if (warming > 0) text += `; ${warming} warming up`;
      if (!ready) text += `; ensemble warming up, ${s.n - 1} of ${warmup} events seen`;
      if (alarms.length > 0) text += `: ${alarms.join('; ')}`;
      const verdict: Verdict = {
        score: share,
        anomalous,
        expected: band?.expected ?? null,
        lower: band?.lower ?? null,
        upper: band?.upper ?? null,
        explanation: text,
      };
      if (detected) {
        verdict.drift = 'DETECTED';
        verdict.explanation += '; a member detected drift and re-baselines';
      } else if (cleared && !drifting(s)) {
        verdict.drift = 'CLEARED';
        verdict.explanation += '; drift cleared: every member has a baseline again';
      }
      return verdict;
    },

    drifting,

    restore(saved) {
      const o = checkObject('ENSEMBLE', saved);
      const n = checkNumber('ENSEMBLE', o, 'n', { integer: true, min: 0 });
      const saves = o.members;
      if (!Array.isArray(saves) || saves.length !== members.length) {
        throw new DetectorStateError('ENSEMBLE', `members must be a list of ${members.length} member states`);
      }
      return { n, members: members.map((m, i) => m.model.restore(saves[i])) };
    },
  };
}
