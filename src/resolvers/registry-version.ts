import type { Redis } from 'ioredis';

const KEY = 'vigil:registry-version';

/**
 * A counter bumped by every change to streams and detectors. Workers compare
 * it with the version their catalog was loaded at before scoring events
 * produced after that load, so a detector registered before its events
 * arrive always sees them (a timer alone would leave a window).
 */
export class RegistryVersion {
  constructor(private readonly redis: Redis) {}

  async bump(): Promise<void> {
    await this.redis.incr(KEY);
  }

  async current(): Promise<string> {
    return (await this.redis.get(KEY)) ?? '0';
  }
}
