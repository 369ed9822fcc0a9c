import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { RateLimitedError, VigilError } from '../core/errors.ts';

/**
 * The one rule for errors leaving the gateway: every error has
 * extensions.code; domain errors keep their message (and field); GraphQL's
 * own refusals (parse, validation, limits, variable types) are
 * BAD_USER_INPUT; anything unexpected is logged in full and masked.
 */
export function toClientError(error: unknown, log: Logger): GraphQLError {
  const graphqlError = isGraphQLError(error) ? error : undefined;
  const original = rootCause(error);
  const base = {
    nodes: graphqlError?.nodes,
    path: graphqlError?.path,
    source: graphqlError?.source,
    positions: graphqlError?.positions,
  };

  if (original instanceof VigilError) {
    const extensions: Record<string, unknown> = { code: original.code };
    if (original.field) extensions.field = original.field;
    if (original instanceof RateLimitedError) {
      extensions.retryAfterSeconds = original.retryAfterSeconds;
      // Yoga turns extensions.http into the response's status and headers, and leaves it out of the body.
      extensions.http = { status: 429, headers: { 'retry-after': String(original.retryAfterSeconds) } };
    }
    return new GraphQLError(original.message, { ...base, extensions });
  }
  if (graphqlError && isGraphQLError(original)) {
    const extensions: Record<string, unknown> = { ...original.extensions };
    if (typeof extensions.code !== 'string' || !KNOWN_CODES.has(extensions.code)) extensions.code = 'BAD_USER_INPUT';
    // The outermost message: wrapping keeps the message, except for a variable's coercion error, which
    // graphql-js wraps as `Variable "$input" got invalid value ... at "input.partitions"; <cause>`,
    // and only that outer message names the input.
    const message = hideSuggestions(graphqlError.message);
    if (extensions.code === 'BAD_USER_INPUT' && !extensions.field) {
      const field = fieldFromMessage(message);
      if (field) extensions.field = field;
    }
    return new GraphQLError(message, { ...base, extensions });
  }
  log.error({ err: original, path: graphqlError?.path }, 'unexpected error while resolving');
  return new GraphQLError('Unexpected error.', { ...base, extensions: { code: 'INTERNAL' } });
}

/**
 * The code `toClientError` gives `error`, worked out without logging it, for
 * callers that must tell a refusal (nothing ran) from a failure before the
 * error is shaped.
 */
export function clientErrorCode(error: unknown): string {
  const original = rootCause(error);
  if (original instanceof VigilError) return original.code;
  if (isGraphQLError(error) && isGraphQLError(original)) {
    const code = original.extensions.code;
    return typeof code === 'string' && KNOWN_CODES.has(code) ? code : 'BAD_USER_INPUT';
  }
  return 'INTERNAL';
}

/**
 * Duck-typed: executors wrap errors in GraphQLErrors (sometimes twice), and a
 * test runner may load a second copy of graphql, so `instanceof` is not enough.
 */
function isGraphQLError(value: unknown): value is GraphQLError {
  return value instanceof GraphQLError || (value instanceof Error && value.name === 'GraphQLError' && 'extensions' in value);
}

/** The innermost error: a domain error, an unexpected one, or GraphQL's own refusal. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (isGraphQLError(current) && current.originalError) current = current.originalError;
  return current;
}

/**
 * graphql-js suggests names ("Did you mean "streamId"?"). Armor hides them in
 * validation errors only; variable coercion (unknown input fields, enum
 * values) goes through here, so they are hidden the same way for every error.
 */
export function hideSuggestions(message: string): string {
  return message.replace(/Did you mean [^?]*\?/g, '[Suggestion hidden]');
}

export const KNOWN_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'RATE_LIMITED', 'INTERNAL']);

/**
 * graphql-js names the offending input in its message, e.g.
 * `Variable "$input" got invalid value 5 at "input.partitions"`: lift that
 * into extensions.field so clients need not parse messages.
 */
export function fieldFromMessage(message: string): string | undefined {
  const at = /got invalid value .* at "([^"]+)"/.exec(message);
  if (at) return at[1];
  const variable = /^Variable "\$([^"]+)"/.exec(message);
  if (variable) return variable[1];
  const argument = /^(?:Field "[^"]+" )?[Aa]rgument "([^"]+)"/.exec(message);
  if (argument) return argument[1];
  return undefined;
}
