import { describe, expect, it } from 'vitest';
import { TopicDirectory } from '../../src/stream/topic-directory.ts';

/** A broker's topic list that counts how often it is asked, on a clock the test moves. */
function broker(initial: string[]) {
  const state = { topics: [...initial], asked: 0, now: 1_000_000, failNext: false };
  const directory = new TopicDirectory(
    async () => {
      state.asked++;
      if (state.failNext) {
        state.failNext = false;
        throw new Error('broker unreachable');
      }
      return [...state.topics];
    },
    () => state.now,
  );
  return { state, directory };
}

describe('TopicDirectory', () => {
  it('answers a burst of calls for topics it has from one listing', async () => {
    const { state, directory } = broker(['a', 'b', 'c']);
    expect(await Promise.all(['a', 'b', 'c', 'a'].map((t) => directory.has(t)))).toEqual([true, true, true, true]);
    expect(state.asked).toBe(1);
  });

  it('asks once more for a topic missing from a listing made before the call, and no more for one missing from a fresh one', async () => {
    const { state, directory } = broker(['a']);
    expect(await directory.has('a')).toBe(true);
    state.topics.push('new');
    state.now += 10;
    expect(await directory.has('new')).toBe(true);
    expect(state.asked).toBe(2);
    // Missing from a listing asked as this call began: the answer, with no third listing.
    expect(await directory.has('gone')).toBe(false);
    expect(state.asked).toBe(2);
  });

  it('renews a listing older than a second', async () => {
    const { state, directory } = broker(['a']);
    await directory.has('a');
    state.now += 999;
    await directory.has('a');
    expect(state.asked).toBe(1);
    state.now += 2;
    await directory.has('a');
    expect(state.asked).toBe(2);
  });

  it('does not keep a failed listing: the call fails, and the next one asks again', async () => {
    const { state, directory } = broker(['a']);
    state.failNext = true;
    await expect(directory.has('a')).rejects.toThrow('broker unreachable');
    expect(await directory.has('a')).toBe(true);
    expect(state.asked).toBe(2);
  });
});
