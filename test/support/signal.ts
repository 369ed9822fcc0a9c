/**
 * Waiting on a change itself, never on a clock: whoever changes what a test
 * watches (a message arrived, a socket closed) calls `notify()`, and
 * `until(done)` re-checks `done` at each change, failing after `timeoutMs`
 * with what `describe()` says was seen.
 */
export class Signal {
  private readonly waiters = new Set<() => void>();

  notify(): void {
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  async until(done: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.waiters.delete(wake);
          resolve();
        }, left);
        this.waiters.add(wake);
      });
    }
  }
}
