import type { Redis } from 'ioredis';
import { afterCommit } from './ambient-transaction.ts';

const KEY = 'vigil:registry-version';

/**
 * A counter bumped by every change to streams and detectors. Workers compare
 * it with the version their catalog was loaded at before scoring events
 * produced after that load, so a detector registered before its events
 * arrive always sees them (a timer alone would leave a window).
 */
export class RegistryVersion {
  constructor(private readonly redis: Redis) {}

  /**
   * After commit, inside a mutation's transaction: a worker that saw the new
   * version before the change was visible would load a catalog without it
   * and then believe that catalog current.
   */
  async bump(): Promise<void> {
    await afterCommit(async () => {
      await this.redis.incr(KEY);
    });
  }

  async current(): Promise<string> {
    return (await this.redis.get(KEY)) ?? '0';
  }
}
