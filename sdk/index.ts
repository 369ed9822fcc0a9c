import { ClientError, GraphQLClient } from 'graphql-request';
import { getSdk, type Sdk } from './generated/index.ts';
import { keyEveryCall, retryingWrapper, type RetryOptions } from './retries.ts';

export * from './generated/index.ts';
export * from './live.ts';
export { retryDelay, type RetryOptions } from './retries.ts';
export { ClientError };

/** A typed Vigil API client: one method per operation in sdk/operations, e.g. `registerStream({ input })`. */
export type VigilClient = Sdk;

/**
 * Creates a typed client for the Vigil GraphQL API at `url` (e.g.
 * http://127.0.0.1:4000/graphql) that authenticates every request with the
 * API key secret `apiKey`. Each method resolves with the operation's data or
 * rejects with a graphql-request `ClientError`; `vigilErrors` reads the
 * contract's error codes out of it.
 *
 * With `{ retries: n }`, a call whose answer may change (the connection
 * failed, a 5xx, INTERNAL, RATE_LIMITED) is tried again up to n times, and
 * every call carries an Idempotency-Key of its own, so a retried mutation runs
 * once (docs/api.md, "Retries and idempotency"). To retry across processes,
 * keep your own key and pass it per call; it is sent as it is, retries or not:
 * `client.publishEvents(vars, { 'Idempotency-Key': key })`.
 */
export function createVigilClient(url: string, apiKey: string, retry: Partial<RetryOptions> = {}): VigilClient {
  const client = new GraphQLClient(url, { headers: { authorization: 'Bearer ' + apiKey } });
  return retry.retries ? keyEveryCall(getSdk(client, retryingWrapper({ ...retry, retries: retry.retries }))) : getSdk(client);
}

/** A GraphQL error as the Vigil contract shapes it. */
export interface VigilError {
  message: string;
  /** UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT, RATE_LIMITED or INTERNAL. */
  code: string | undefined;
  /** The offending input path, e.g. "input.valueFields[1]" (BAD_USER_INPUT, CONFLICT). */
  field: string | undefined;
}

/**
 * The GraphQL errors carried by a failed client call, with their codes; an
 * empty list when `error` is not a GraphQL error response (e.g. the server
 * could not be reached).
 */
export function vigilErrors(error: unknown): VigilError[] {
  if (!(error instanceof ClientError)) return [];
  return (error.response.errors ?? []).map((e) => {
    const extensions = (e.extensions ?? {}) as Record<string, unknown>;
    return {
      message: e.message,
      code: typeof extensions.code === 'string' ? extensions.code : undefined,
      field: typeof extensions.field === 'string' ? extensions.field : undefined,
    };
  });
}
