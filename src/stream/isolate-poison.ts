import type { ErrorClass } from './error-class.ts';
import type { BatchEffects } from './process-batch.ts';

/**
 * Finding the event whose effects the database refuses, without I/O of its
 * own: the caller passes how to commit. A batch is committed whole; when that
 * fails for a reason retrying cannot fix, it is committed in pieces, halving
 * the failing ones, until each refused piece holds one event with effects.
 * That event becomes a dead letter (committed with the offset past it) and
 * every other piece commits as usual.
 *
 * Pieces are committed in offset order, each in its own transaction with the
 * offset at its end, so a crash between two pieces leaves a position of
 * record with exactly the effects before it: the restart replays the rest,
 * finds the same poison, and nothing is written twice.
 */

/** What was refused: the event's offset and the database's reason, in one line. */
export interface Poisoned {
  offset: bigint;
  reason: string;
}

export interface Isolation<R> {
  /** One per committed piece, in offset order. */
  results: R[];
  poisoned: Poisoned[];
}

export interface PieceCommitter<R> {
  /** Commits the effects of a piece and moves the offset to its nextOffset; `last` pieces carry the checkpoints. */
  commit(piece: BatchEffects, last: boolean): Promise<R>;
  /** Commits a dead letter for the event at `offset` instead of its effects, moving the offset to `nextOffset`. */
  commitPoison(poison: Poisoned, nextOffset: bigint, last: boolean): Promise<R>;
  classify(error: unknown): ErrorClass;
}

/** The offsets of events with effects to write, ascending: where a batch can be cut. */
export function effectOffsets(effects: BatchEffects): bigint[] {
  const offsets = new Set<bigint>();
  for (const a of effects.anomalies) offsets.add(a.offset);
  for (const d of effects.deadLetters) offsets.add(d.offset);
  for (const d of effects.drift) offsets.add(d.offset);
  return [...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The effects of events in [from, to), moving the offset to `to`. Counts
 * (valid, untracked) stay with the whole batch: pieces report none.
 */
export function sliceEffects(effects: BatchEffects, from: bigint, to: bigint): BatchEffects {
  const inside = (offset: bigint) => offset >= from && offset < to;
  return {
    anomalies: effects.anomalies.filter((a) => inside(a.offset)),
    deadLetters: effects.deadLetters.filter((d) => inside(d.offset)),
    drift: effects.drift.filter((d) => inside(d.offset)),
    canaries: effects.canaries.filter((c) => inside(c.offset)),
    validEvents: 0,
    untrackedEvents: 0,
    nextOffset: to,
  };
}

/**
 * Commits `effects`, isolating poison as described above. A retriable error
 * (or one that no event can be blamed for) is thrown: pieces committed
 * before it stay committed, and the caller restores the partition from the
 * position of record and tries again later.
 */
export async function commitIsolatingPoison<R>(effects: BatchEffects, committer: PieceCommitter<R>): Promise<Isolation<R>> {
  const outcome: Isolation<R> = { results: [], poisoned: [] };
  const refused = await attempt(() => committer.commit(effects, true), committer, outcome);
  if (refused === null) return outcome;
  // Each piece [cuts[i], cuts[i + 1]) holds one event with effects; the events before the first have none.
  const cuts = [...effectOffsets(effects), effects.nextOffset];
  const pieces = cuts.length - 1;
  if (pieces === 0) throw refused.error;

  const settle = async (lo: number, hi: number, knownReason: string | null): Promise<void> => {
    const last = hi === pieces;
    let reason = knownReason;
    if (reason === null) {
      const failed = await attempt(() => committer.commit(sliceEffects(effects, cuts[lo]!, cuts[hi]!), last), committer, outcome);
      if (failed === null) return;
      reason = failed.reason;
    }
    if (hi - lo === 1) {
      const poison = { offset: cuts[lo]!, reason };
      outcome.results.push(await committer.commitPoison(poison, cuts[hi]!, last));
      outcome.poisoned.push(poison);
      return;
    }
    const middle = (lo + hi) >> 1;
    await settle(lo, middle, null);
    await settle(middle, hi, null);
  };
  await settle(0, pieces, refused.reason);
  return outcome;
}

/** Runs one commit: null when it succeeded (its result kept), the reason when it was refused; retriable errors are thrown. */
async function attempt<R>(
  commit: () => Promise<R>,
  committer: PieceCommitter<R>,
  outcome: Isolation<R>,
): Promise<{ reason: string; error: unknown } | null> {
  try {
    outcome.results.push(await commit());
    return null;
  } catch (error) {
    const verdict = committer.classify(error);
    if (verdict.retriable) throw error;
    return { reason: verdict.reason, error };
  }
}
