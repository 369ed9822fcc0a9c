import { describe, expect, it } from 'vitest';
import type { ErrorClass } from '../../src/stream/error-class.ts';
import { commitIsolatingPoison, effectOffsets, sliceEffects, type PieceCommitter, type Poisoned } from '../../src/stream/isolate-poison.ts';
import type { BatchEffects, NewAnomaly, NewDeadLetter } from '../../src/stream/process-batch.ts';

// ---------------------------------------------------------------------------
// A batch's effects by offset, and an in-memory store that commits pieces as
// PostgreSQL would: all of a piece or none, the offset with it.
// ---------------------------------------------------------------------------

const anomalyAt = (offset: number) => ({ offset: BigInt(offset), seriesKey: `s${offset}` }) as NewAnomaly;
const letterAt = (offset: number, reason = 'malformed JSON') => ({ offset: BigInt(offset), reason }) as NewDeadLetter;

function batch(parts: { anomalies?: number[]; deadLetters?: number[]; drift?: number[] }, nextOffset: number): BatchEffects {
  return {
    anomalies: (parts.anomalies ?? []).map(anomalyAt),
    deadLetters: (parts.deadLetters ?? []).map((o) => letterAt(o)),
    drift: (parts.drift ?? []).map((o) => ({ offset: BigInt(o), detectorId: 'd', seriesKey: null, change: 'DETECTED' as const, explanation: '' })),
    validEvents: 0,
    untrackedEvents: 0,
    nextOffset: BigInt(nextOffset),
    canaries: [],
  };
}

class Refused extends Error {}
class ConnectionLost extends Error {}
class Crash extends Error {}

const classify = (error: unknown): ErrorClass =>
  error instanceof Refused ? { retriable: false, reason: `refused: ${error.message}` } : { retriable: true, reason: String(error) };

interface Commit {
  offsets: bigint[];
  nextOffset: bigint;
  last: boolean;
}

/** Refuses any piece holding an anomaly at a poison offset; counts attempts; can crash after N commits. */
class FakeStore {
  anomalies: bigint[] = [];
  deadLetters: { offset: bigint; reason: string }[] = [];
  drift: bigint[] = [];
  position = 0n;
  commits: Commit[] = [];
  attempts = 0;

  constructor(
    private readonly poison: Set<number>,
    private readonly options: { crashAfter?: number; lostOnce?: boolean } = {},
  ) {}

  committer(): PieceCommitter<Commit> {
    return {
      classify,
      commit: async (piece, last) => {
        this.attempts++;
        if (this.options.lostOnce) {
          this.options.lostOnce = false;
          throw new ConnectionLost('connection terminated');
        }
        const bad = piece.anomalies.find((a) => this.poison.has(Number(a.offset)));
        if (bad) throw new Refused(`index row too large at ${bad.offset}`);
        return this.apply(piece.anomalies.map((a) => a.offset), piece.deadLetters, piece.drift.map((d) => d.offset), piece.nextOffset, last);
      },
      commitPoison: async (poison: Poisoned, nextOffset, last) => {
        this.attempts++;
        return this.apply([], [letterAt(Number(poison.offset), poison.reason)], [], nextOffset, last);
      },
    };
  }

  private apply(anomalies: bigint[], letters: NewDeadLetter[], drift: bigint[], nextOffset: bigint, last: boolean): Commit {
    if (this.options.crashAfter !== undefined && this.commits.length >= this.options.crashAfter) throw new Crash('worker killed');
    // As the unique constraints do: a repeated write is a no-op.
    for (const o of anomalies) if (!this.anomalies.includes(o)) this.anomalies.push(o);
    for (const l of letters) if (!this.deadLetters.some((d) => d.offset === l.offset)) this.deadLetters.push({ offset: l.offset, reason: l.reason });
    for (const o of drift) if (!this.drift.includes(o)) this.drift.push(o);
    if (nextOffset > this.position) this.position = nextOffset;
    const commit = { offsets: [...anomalies, ...letters.map((l) => l.offset)], nextOffset, last };
    this.commits.push(commit);
    return commit;
  }
}

const numbers = (offsets: bigint[]) => offsets.map(Number).sort((a, b) => a - b);

describe('slicing a batch by offset', () => {
  it('cuts at each event with effects and keeps each effect in exactly one piece', () => {
    const effects = batch({ anomalies: [3, 7, 7], deadLetters: [5], drift: [7, 9] }, 12);
    expect(effectOffsets(effects)).toEqual([3n, 5n, 7n, 9n]);
    const cuts = [...effectOffsets(effects), effects.nextOffset];
    const pieces = cuts.slice(0, -1).map((from, i) => sliceEffects(effects, from, cuts[i + 1]!));
    expect(pieces.map((p) => p.nextOffset)).toEqual([5n, 7n, 9n, 12n]);
    expect(pieces.flatMap((p) => p.anomalies.map((a) => a.offset))).toEqual([3n, 7n, 7n]);
    expect(pieces.flatMap((p) => p.deadLetters.map((d) => d.offset))).toEqual([5n]);
    expect(pieces.flatMap((p) => p.drift.map((d) => d.offset))).toEqual([7n, 9n]);
  });
});

describe('commitIsolatingPoison', () => {
  it('commits a healthy batch whole, once, with its checkpoints', async () => {
    const store = new FakeStore(new Set());
    const outcome = await commitIsolatingPoison(batch({ anomalies: [1, 4], deadLetters: [2] }, 10), store.committer());
    expect(store.commits).toEqual([{ offsets: [1n, 4n, 2n], nextOffset: 10n, last: true }]);
    expect(outcome.poisoned).toEqual([]);
  });

  it('dead-letters only the refused event; every other effect is committed once and the offset passes it', async () => {
    const anomalies = [0, 3, 8, 13, 21, 34, 55, 89];
    const store = new FakeStore(new Set([21]));
    const outcome = await commitIsolatingPoison(batch({ anomalies, deadLetters: [40] }, 100), store.committer());
    expect(outcome.poisoned).toEqual([{ offset: 21n, reason: 'refused: index row too large at 21' }]);
    expect(numbers(store.anomalies)).toEqual(anomalies.filter((o) => o !== 21));
    expect([...store.deadLetters].sort((a, b) => Number(a.offset - b.offset))).toEqual([
      { offset: 21n, reason: 'refused: index row too large at 21' },
      { offset: 40n, reason: 'malformed JSON' },
    ]);
    expect(store.position).toBe(100n);
    // Offsets only move forward, piece after piece, and only the piece reaching the end carries checkpoints.
    const positions = store.commits.map((c) => c.nextOffset);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expect(store.commits.filter((c) => c.last)).toEqual([store.commits.at(-1)]);
    expect(store.commits.at(-1)!.nextOffset).toBe(100n);
    // Bisection, not one commit per event: about 2 log2(n) attempts for one poison among n events with effects.
    expect(store.attempts).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(anomalies.length + 1)) + 2);
  });

  it('isolates several poisons, the first and the last event included', async () => {
    const anomalies = Array.from({ length: 20 }, (_, i) => i * 2);
    const poison = new Set([0, 14, 38]);
    const store = new FakeStore(poison);
    const outcome = await commitIsolatingPoison(batch({ anomalies, drift: [15] }, 40), store.committer());
    expect(numbers(outcome.poisoned.map((p) => p.offset))).toEqual([0, 14, 38]);
    expect(numbers(store.anomalies)).toEqual(anomalies.filter((o) => !poison.has(o)));
    expect(numbers(store.drift)).toEqual([15]);
    expect(store.position).toBe(40n);
  });

  it('a batch whose only event with effects is refused becomes that one dead letter', async () => {
    const store = new FakeStore(new Set([5]));
    const outcome = await commitIsolatingPoison(batch({ anomalies: [5] }, 9), store.committer());
    expect(outcome.poisoned.map((p) => p.offset)).toEqual([5n]);
    expect(store.commits).toEqual([{ offsets: [5n], nextOffset: 9n, last: true }]);
  });

  it('throws a retriable error without dead-lettering anything: the partition waits and tries again', async () => {
    const store = new FakeStore(new Set([3]), { lostOnce: true });
    await expect(commitIsolatingPoison(batch({ anomalies: [1, 3] }, 5), store.committer())).rejects.toBeInstanceOf(ConnectionLost);
    expect(store.commits).toEqual([]);
    expect(store.deadLetters).toEqual([]);
  });

  it('a refusal no event can be blamed for (no effects in the batch) is thrown, not turned into a dead letter', async () => {
    const committer: PieceCommitter<void> = {
      classify,
      commit: async () => {
        throw new Refused('checkpoint refused');
      },
      commitPoison: async () => expect.fail('nothing to dead-letter'),
    };
    await expect(commitIsolatingPoison(batch({}, 5), committer)).rejects.toBeInstanceOf(Refused);
  });

  it('exactly once across a crash between pieces: the restart commits the rest, nothing twice', async () => {
    const anomalies = [2, 5, 9, 11, 17, 23, 29, 31];
    const poison = new Set([11]);
    const reference = new FakeStore(poison);
    await commitIsolatingPoison(batch({ anomalies }, 40), reference.committer());
    for (let crashAfter = 0; crashAfter < reference.commits.length; crashAfter++) {
      const store = new FakeStore(poison, { crashAfter });
      await expect(commitIsolatingPoison(batch({ anomalies }, 40), store.committer())).rejects.toBeInstanceOf(Crash);
      // The restart re-reads from the position of record: only events at or after it have effects again.
      const resumedFrom = Number(store.position);
      const again = new FakeStore(poison);
      Object.assign(again, { anomalies: [...store.anomalies], deadLetters: [...store.deadLetters], position: store.position });
      await commitIsolatingPoison(batch({ anomalies: anomalies.filter((o) => o >= resumedFrom) }, 40), again.committer());
      expect(numbers(again.anomalies), `crash after ${crashAfter} pieces`).toEqual(numbers(reference.anomalies));
      expect(again.deadLetters.map((d) => d.offset)).toEqual([11n]);
      expect(again.position).toBe(40n);
    }
  });
});
