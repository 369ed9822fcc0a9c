import { getOperationAST, GraphQLError, print, Source, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { BadUserInputError, ConflictError, VigilError } from '../core/errors.ts';
import type { Context } from '../schema/context.ts';
import { clientErrorCode, toClientError } from '../schema/errors.ts';
import { requestFingerprint, type IdempotencyStore, type KeptResult } from './idempotency-store.ts';

/** The header, as Stripe and the IETF draft (draft-ietf-httpapi-idempotency-key-header) name it. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Set on the answer to a retry: the result is the kept one, and nothing was run again. */
export const REPLAYED_HEADER = 'idempotent-replayed';
const FIELD = 'Idempotency-Key';
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

/** Refusals: the request was turned down before it did anything, so its retry may run (and may be corrected). */
const REFUSAL_CODES = new Set(['BAD_USER_INPUT', 'NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED', 'CONFLICT', 'RATE_LIMITED']);

/** Root fields whose answer holds a secret shown once: their requests are remembered, their answers never stored. */
const ANSWER_NOT_KEPT = new Set(['createApiKey']);

/**
 * Mutations with an Idempotency-Key (the HTTP header, or `extensions.idempotencyKey`
 * of the request, which graphql-ws can carry) run at most once
 * per API key and key: a retry of the same request within a day gets the
 * first answer again (with the header `Idempotent-Replayed: true` and
 * extensions.idempotency.replayed); the same key on another request is a
 * CONFLICT; so is a retry while the first is still running. A refused
 * request frees its key; any other answer is kept, failures included.
 * Queries and requests without the header are untouched. Placed after
 * authentication and the rate limit, so a replay is charged and only its own
 * API key can read it.
 */
export function useIdempotency(store: IdempotencyStore, log: Logger): Plugin<Context> {
  const replayed = new WeakSet<Request>();
  // Shaping a kept error must not log it again: the gateway's error rule logs each unexpected one once.
  const quiet = log.child({}, { level: 'silent' });
  const refuse = (error: VigilError) => ({ errors: [toClientError(error, log)] });
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue;
      const request = (ctx as { request?: Request }).request;
      const key = request?.headers.get(IDEMPOTENCY_HEADER) ?? extensionKey(ctx);
      if (key === null || !ctx.principal) return undefined;
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      if (operation?.operation !== 'mutation') return undefined;
      if (!KEY_SHAPE.test(key)) {
        setResultAndStopExecution(refuse(new BadUserInputError(FIELD, 'must be 1 to 255 visible ASCII characters, e.g. a UUID')));
        return undefined;
      }
      const fingerprint = requestFingerprint(documentText(args.document), args.operationName, args.variableValues);
      const slot = store.slotOf(ctx.principal.keyId, key);
      let claim;
      try {
        claim = await store.claim(slot, fingerprint);
      } catch (error) {
        log.warn({ err: error }, 'idempotency: the key could not be recorded');
        setResultAndStopExecution(refuse(new VigilError('INTERNAL', `the ${FIELD} could not be recorded (Redis did not answer); nothing was done: retry`)));
        return undefined;
      }
      if (claim.kind === 'other-request') {
        setResultAndStopExecution(refuse(new ConflictError(`this ${FIELD} was used for another request (operation or variables) in the last 24 hours: use a new key for a new request`, FIELD)));
        return undefined;
      }
      if (claim.kind === 'in-doubt') {
        const message =
          `the request with this ${FIELD} began at ${claim.startedAt.toISOString()} and never answered (its gateway may have stopped, or ` +
          `its answer could not be kept): it may have taken effect. Read the outcome with a query; to run it again, send a new key`;
        setResultAndStopExecution(refuse(new ConflictError(message, FIELD)));
        return undefined;
      }
      if (claim.kind === 'in-progress') {
        setResultAndStopExecution(refuse(new ConflictError(`a request with this ${FIELD} is still running: retry once it has answered`, FIELD)));
        return undefined;
      }
      if (claim.kind === 'done') {
        if (request) replayed.add(request);
        const why = claim.withheld === 'secret' ? 'it held a secret that is shown once' : 'it was too large to keep';
        setResultAndStopExecution(
          claim.result
            ? replay(claim.result, args.document)
            : refuse(new ConflictError(`the request with this ${FIELD} was carried out; its answer is not kept (${why}): read the outcome with a query`, FIELD)),
        );
        return undefined;
      }
      const keepAnswer = operation.selectionSet.selections.every((selection) => selection.kind === 'Field' && !ANSWER_NOT_KEPT.has(selection.name.value));
      return {
        onExecuteDone: async ({ result }) => {
          const single = 'data' in result || 'errors' in result ? (result as ExecutionResult) : undefined;
          // A refusal did nothing, so its key is freed (and a flood of refused calls stores nothing). Anything
          // else is kept, errors included: after INTERNAL the effect may have happened (events produced, a
          // commit whose follow-up failed), and a retry must not do it twice.
          const refusedOnly =
            single !== undefined &&
            !Object.values(single.data ?? {}).some((value) => value != null) &&
            (single.errors ?? []).every((error) => REFUSAL_CODES.has(clientErrorCode(error)));
          const ran = single !== undefined && !refusedOnly;
          try {
            if (!ran) await store.release(slot);
            else await store.keep(slot, fingerprint, keptOf(single, quiet), keepAnswer);
          } catch (error) {
            // The mutation has run; only its answer is lost: once the claim is older than runningSeconds, a retry is told the outcome is unknown.
            log.warn({ err: error }, 'idempotency: the result could not be kept');
          }
        },
      };
    },
    onResponse({ request, response }) {
      if (replayed.has(request)) response.headers.set(REPLAYED_HEADER, 'true');
    },
  };
}

/**
 * The key a request carries in its GraphQL extensions (`{ "extensions": { "idempotencyKey": "..." } }`):
 * the way for transports without headers of their own, graphql-ws above all.
 */
function extensionKey(ctx: Context): string | null {
  const key = (ctx as { params?: { extensions?: Record<string, unknown> } }).params?.extensions?.idempotencyKey;
  if (key === undefined || key === null) return null;
  return typeof key === 'string' ? key : JSON.stringify(key);
}

function documentText(document: DocumentNode): string {
  return document.loc?.source.body ?? print(document);
}

/** The answer as the client receives it: errors shaped by the gateway's one rule. */
function keptOf(result: ExecutionResult, log: Logger): KeptResult {
  const kept: KeptResult = { data: result.data ?? null };
  if (result.errors?.length) {
    kept.errors = result.errors.map((error) => {
      const shaped = toClientError(error, log);
      return { message: shaped.message, locations: shaped.locations, path: shaped.path, extensions: { ...shaped.extensions } };
    });
  }
  return kept;
}

/** The answer to give a retry: the first one, marked as given again. The document is the same text, so error locations point into it again. */
function replay(kept: KeptResult, document: DocumentNode): ExecutionResult {
  const source = document.loc?.source ?? new Source(print(document));
  const errors = kept.errors?.map(
    (error) =>
      new GraphQLError(error.message, {
        source: error.locations ? source : undefined,
        positions: error.locations?.map((at) => offsetOf(source.body, at)),
        path: error.path,
        extensions: error.extensions,
      }),
  );
  return { data: kept.data as Record<string, unknown> | null, ...(errors ? { errors } : {}), extensions: { idempotency: { replayed: true } } };
}

/** The character offset of a 1-based line and column. */
function offsetOf(body: string, at: { line: number; column: number }): number {
  let offset = 0;
  for (let line = 1; line < at.line; line++) offset = body.indexOf('\n', offset) + 1;
  return offset + at.column - 1;
}
