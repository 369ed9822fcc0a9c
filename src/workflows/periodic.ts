import type { Logger } from 'pino';

/**
 * A pass run on a process timer and whenever poked (e.g. when Redis comes
 * back), never two at once: a poke during a pass runs one more after it.
 * A timer of the process, not a BullMQ job, so it goes on when Redis has
 * lost every job and schedule.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly pass: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(options: { now?: boolean } = {}): void {
    this.timer = setInterval(() => this.poke(), this.intervalMs);
    if (options.now !== false) this.poke();
  }

  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((error: Error) => this.log.warn({ error: error.message }, `${this.name} pass failed`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /** Waits for a pass under way, but not for ever: one waiting on an unreachable Redis would hold a shutdown up. */
  async stop(waitMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((resolve) => (timeout = setTimeout(resolve, waitMs)))]);
    clearTimeout(timeout);
  }
}
