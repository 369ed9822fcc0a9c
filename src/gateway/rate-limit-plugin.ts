import type { Plugin } from 'graphql-yoga';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { EdgeLimits } from '../core/config.ts';
import { RateLimitedError } from '../core/errors.ts';
import type { Context } from '../schema/context.ts';
import { toClientError } from '../schema/errors.ts';
import { documentCost } from './query-cost.ts';
import type { RateLimiter } from './rate-limiter.ts';

/**
 * Charges every operation its cost (see query-cost.ts) against a bucket per
 * API key, or per client address when no valid key was sent, after
 * validation and before execution. A refusal is RATE_LIMITED with
 * extensions.retryAfterSeconds (and, over HTTP, status 429 and Retry-After).
 */
export function useRateLimit(limiter: RateLimiter, limits: EdgeLimits): Plugin<Context> {
  const charge = async (args: { schema: GraphQLSchema; document: DocumentNode; contextValue: Context }) => {
    const ctx = args.contextValue;
    const cost = documentCost(args.schema, args.document);
    const verdict = ctx.principal
      ? await limiter.take(`key:${ctx.principal.keyId}`, { pointsPerSecond: limits.ratePointsPerSecond, burst: limits.rateBurst }, cost)
      : await limiter.take(`addr:${ctx.clientAddress}`, { pointsPerSecond: limits.anonymousPointsPerSecond, burst: limits.anonymousBurst }, cost);
    if (verdict.allowed) return undefined;
    const who = ctx.principal ? 'this API key' : 'requests without a key from this address';
    // Shaped here, since over graphql-ws a result set by a plugin reaches the client as it is.
    return toClientError(new RateLimitedError(`rate limit: ${who} has spent its query cost points (this operation costs ${cost})`, verdict.retryAfterSeconds), ctx.log);
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const refusal = await charge(args as never);
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const refusal = await charge(args as never);
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
  };
}
