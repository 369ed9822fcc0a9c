import { afterEach, describe, expect, it, vi } from 'vitest';
import { InFlightGate } from '../../src/stream/in-flight-gate.ts';

/** Lets pending promise callbacks (and the gate's wake-ups) run. */
async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Starts an acquisition and records when it is granted. */
function track(promise: Promise<void>): { done: () => boolean; promise: Promise<void> } {
  let granted = false;
  const tracked = promise.then(() => {
    granted = true;
  });
  return { done: () => granted, promise: tracked };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('InFlightGate', () => {
  it('lets acquisitions under the limit proceed at once', async () => {
    const gate = new InFlightGate(10);
    await gate.acquire(4);
    await gate.acquire(6); // exactly the limit
    expect(gate.current).toBe(10);
    gate.release(4);
    expect(gate.current).toBe(6);
    gate.release(6);
    expect(gate.current).toBe(0);
  });

  it('makes an acquisition over the limit wait until a release makes room', async () => {
    const gate = new InFlightGate(10);
    await gate.acquire(8);
    const waiting = track(gate.acquire(3));
    await settle();
    expect(waiting.done()).toBe(false);
    expect(gate.current).toBe(8);

    gate.release(1); // 7 + 3 = 10: fits
    await waiting.promise;
    expect(gate.current).toBe(10);
  });

  it('keeps waiting while a release does not make enough room', async () => {
    const gate = new InFlightGate(10);
    await gate.acquire(9);
    const waiting = track(gate.acquire(5));
    gate.release(2); // 7 + 5 > 10
    await settle();
    expect(waiting.done()).toBe(false);
    expect(gate.current).toBe(7);
    gate.release(2); // 5 + 5 = 10
    await waiting.promise;
    expect(gate.current).toBe(10);
  });

  it('runs a batch larger than the limit alone', async () => {
    const gate = new InFlightGate(10);
    // Nothing in flight: the oversized batch goes at once.
    await gate.acquire(25);
    expect(gate.current).toBe(25);
    // While it runs, even a single event waits.
    const small = track(gate.acquire(1));
    await settle();
    expect(small.done()).toBe(false);
    gate.release(25);
    await small.promise;
    expect(gate.current).toBe(1);

    // With something in flight, the oversized batch waits until everything is released.
    const big = track(gate.acquire(25));
    await settle();
    expect(big.done()).toBe(false);
    gate.release(1);
    await big.promise;
    expect(gate.current).toBe(25);
  });

  it('calls whileWaiting on every wake-up while it waits, and not when it need not wait', async () => {
    const gate = new InFlightGate(10);
    let heartbeats = 0;
    const heartbeat = async () => {
      heartbeats++;
    };
    await gate.acquire(5, heartbeat);
    expect(heartbeats).toBe(0);

    await gate.acquire(5);
    const waiting = track(gate.acquire(5, heartbeat));
    gate.release(1); // wakes the waiter, which finds 9 + 5 > 10 and waits again
    await settle();
    expect(waiting.done()).toBe(false);
    expect(heartbeats).toBe(1);
    gate.release(1);
    await settle();
    expect(heartbeats).toBe(2);
    expect(waiting.done()).toBe(false);
    gate.release(3); // 5 + 5 = 10
    await waiting.promise;
    expect(gate.current).toBe(10);
  });

  it('wakes up about once a second to call whileWaiting even when nothing is released', async () => {
    vi.useFakeTimers();
    const gate = new InFlightGate(2);
    await gate.acquire(2);
    let heartbeats = 0;
    const waiting = track(
      gate.acquire(1, async () => {
        heartbeats++;
      }),
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(heartbeats).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(heartbeats).toBe(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(heartbeats).toBe(4);
    expect(waiting.done()).toBe(false);

    gate.release(2);
    await vi.advanceTimersByTimeAsync(0);
    await waiting.promise;
    expect(gate.current).toBe(1);
    expect(gate.waitedMs).toBeGreaterThanOrEqual(4000);
  });

  it('does not let whileWaiting failures be swallowed: the acquisition rejects', async () => {
    const gate = new InFlightGate(1);
    await gate.acquire(1);
    const failing = gate.acquire(1, async () => {
      throw new Error('heartbeat failed: rebalancing');
    });
    gate.release(0); // wake the waiter without making room
    await expect(failing).rejects.toThrow('heartbeat failed');
    expect(gate.current).toBe(1); // the failed acquisition took nothing
  });

  it('never lets more than the limit be in flight across many concurrent acquirers', async () => {
    const limit = 10;
    const gate = new InFlightGate(limit);
    let inFlight = 0;
    let peak = 0;
    let completed = 0;
    // Deterministic pseudo-random sizes (1..limit) and hold times.
    let seed = 12345;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const worker = async (size: number, holdRounds: number) => {
      await gate.acquire(size);
      inFlight += size;
      peak = Math.max(peak, inFlight);
      // What the gate counts includes every holder (some may not have resumed yet).
      expect(inFlight).toBeLessThanOrEqual(gate.current);
      expect(gate.current).toBeLessThanOrEqual(limit);
      await settle(holdRounds);
      inFlight -= size;
      gate.release(size);
      completed++;
    };
    const jobs = Array.from({ length: 200 }, () => worker(1 + next(limit), 1 + next(4)));
    await Promise.all(jobs);
    expect(completed).toBe(200);
    expect(peak).toBeLessThanOrEqual(limit);
    expect(peak).toBeGreaterThan(limit / 2); // the gate did allow concurrency
    expect(gate.current).toBe(0);
  });

  it('admits an oversized batch only when it is alone, among many concurrent acquirers', async () => {
    const limit = 8;
    const gate = new InFlightGate(limit);
    let inFlight = 0;
    let violations = 0;
    let oversizedRan = 0;
    const worker = async (size: number, holdRounds: number) => {
      await gate.acquire(size);
      const before = inFlight;
      inFlight += size;
      if (size > limit) {
        oversizedRan++;
        if (before !== 0) violations++;
      } else if (inFlight > limit) {
        violations++;
      }
      await settle(holdRounds);
      inFlight -= size;
      gate.release(size);
    };
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) jobs.push(worker(i % 15 === 7 ? 20 : 1 + (i % 5), 1 + (i % 3)));
    await Promise.all(jobs);
    expect(oversizedRan).toBe(4);
    expect(violations).toBe(0);
    expect(gate.current).toBe(0);
  });

  it('never goes below zero when released too much', () => {
    const gate = new InFlightGate(5);
    gate.release(3);
    expect(gate.current).toBe(0);
  });
});
