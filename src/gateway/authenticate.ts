import type { EdgeLimits } from '../core/config.ts';
import type { ApiKeyService } from '../services/api-keys.ts';
import { RateLimitedError, UnauthenticatedError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface Authentication {
  principal: Principal | null;
  /** Set when a credential was sent but refused (unknown, revoked, or too many failures from this address). */
  authError: Error | null;
}

/**
 * API-key authentication for HTTP, SSE and graphql-ws alike, with failed
 * attempts limited per client address: once an address has spent its
 * failures, its credentials are refused before any lookup, so guessing keys
 * costs the server nothing.
 */
export class EdgeAuthenticator {
  constructor(
    private readonly apiKeys: ApiKeyService,
    private readonly limiter: RateLimiter,
    private readonly limits: EdgeLimits,
  ) {}

  async authenticate(credential: string | undefined, address: string): Promise<Authentication> {
    if (!credential) return { principal: null, authError: null };
    const failures = { pointsPerSecond: this.limits.authFailuresPerMinute / 60, burst: this.limits.authFailuresPerMinute };
    const gate = await this.limiter.take(`authfail:${address}`, failures, 0);
    if (!gate.allowed) {
      return { principal: null, authError: new RateLimitedError('too many failed authentication attempts from this address', gate.retryAfterSeconds) };
    }
    try {
      return { principal: await this.apiKeys.authenticate(credential), authError: null };
    } catch (error) {
      if (error instanceof UnauthenticatedError) await this.limiter.take(`authfail:${address}`, failures, 1);
      return { principal: null, authError: error as Error };
    }
  }
}

/** The Authorization value of a request: its header, graphql-ws connectionParams, or SSE extensions.connectionParams. */
export function credentialOf(
  header: string | null | undefined,
  connectionParams: Record<string, unknown> | undefined,
  extensions: Record<string, unknown> | undefined,
): string | undefined {
  if (header) return header;
  const fromConnection = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof fromConnection === 'string') return fromConnection;
  const fromExtensions = (extensions?.connectionParams as Record<string, unknown> | undefined)?.authorization;
  return typeof fromExtensions === 'string' ? fromExtensions : undefined;
}
