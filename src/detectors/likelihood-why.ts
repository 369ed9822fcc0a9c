import { fmt } from './format.ts';
import { FINE_BINS, LEVELS, MAX_MOVE } from './likelihood-sequence.ts';

/** The explanations of LIKELIHOOD's context channels (likelihood-context.ts): each names the channel that fired. */

function cycleOf(name: string | undefined): string {
  return name === 'hourly' ? 'hour' : name === 'daily' ? 'day' : 'week';
}

export function seasonWhy(x: number, usual: number, name: string | undefined, z: number, filled: number): () => string {
  return () =>
    `SEASON: ${fmt(x)} against a usual ${fmt(usual)} at this time of the ${cycleOf(name)} ` +
    `(${name} cycle found in the series); the last ${filled}-event average of that gap is ${fmt(z, 3)} sd above its long-run level`;
}

export function recordWhy(x: number, usual: number, name: string | undefined, times: number): () => string {
  return () =>
    `SEASON: ${fmt(x)} against a usual ${fmt(usual)} at this time of the ${cycleOf(name)} ` +
    `(${name} cycle found in the series): ${fmt(times, 3)} times the largest such gap seen recently`;
}

export function driftWhy(level: number, long: number, range: number, times: number | null, z = 0): () => string {
  return () =>
    `DRIFT: the level ${fmt(level)} (seasonal shape taken out) has drifted ${fmt((Math.abs(level - long) / range) * 100, 3)}% of the range ` +
    `${level > long ? 'above' : 'below'} the long baseline ${fmt(long)} ` +
    (times === null ? `(${fmt(z, 3)} sd beyond its usual gap)` : `(${fmt(times, 3)} times its usual gap)`);
}

export function flatWhy(run: number, ms: number | null, longest: number, moves: number): () => string {
  const span = ms === null ? `${run} events` : `${fmt(ms / 60_000, 3)} min (${run} events)`;
  return () =>
    `FLAT: flat for ${span} where it usually moves by ${fmt(moves * 100, 3)}% of its range per event ` +
    `(longest flat run before: ${longest} events)`;
}

export function sequenceWhy(v: { z: number; level: number; move: number; probability: number }, averaging: number): () => string {
  const move = v.move === 0 ? 'stayed in its bin' : `moved ${v.move > 0 ? 'up' : 'down'} ${Math.abs(v.move)}${Math.abs(v.move) === MAX_MOVE ? ' or more' : ''} bin${Math.abs(v.move) === 1 ? '' : 's'} (of ${FINE_BINS})`;
  return () =>
    `SEQUENCE: the value ${move} from level ${v.level + 1} of ${LEVELS}, a move made ${fmt(v.probability * 100, 3)}% of the time from there; ` +
    `the last ${averaging} moves are ${fmt(v.z, 3)} sd less usual than the series' usual moves`;
}
