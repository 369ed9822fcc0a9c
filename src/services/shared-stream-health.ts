import type { Stream } from '../generated/prisma/client.ts';
import type { HealthService, StreamHealth } from './health.ts';

/**
 * One StreamHealth computation per stream per interval, shared by every
 * subscriber of the process: each computation asks Kafka and PostgreSQL,
 * and a push goes to all streamHealth subscribers at once, so without
 * sharing N subscribers cost N times the queries.
 */
export class SharedStreamHealth {
  private readonly recent = new Map<string, { at: number; health: Promise<StreamHealth | undefined> }>();

  constructor(
    private readonly health: HealthService,
    private readonly findStream: (id: string) => Promise<Stream | null>,
    private readonly intervalMs = 1000,
  ) {}

  of(streamId: string, now = Date.now()): Promise<StreamHealth | undefined> {
    const cached = this.recent.get(streamId);
    if (cached && now - cached.at < this.intervalMs) return cached.health;
    const health = this.findStream(streamId).then((stream) => (stream ? this.health.stream(stream) : undefined));
    this.recent.set(streamId, { at: now, health });
    // A failed computation is not shared past its own subscribers.
    health.catch(() => this.recent.delete(streamId));
    if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value as string);
    return health;
  }
}
