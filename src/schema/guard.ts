import type { Role } from '../generated/prisma/enums.ts';
import { requireRole } from '../services/api-keys.ts';
import { AfterCommitError } from '../services/transaction.ts';
import type { AuditOutcome, AuditRecord } from '../audit/audit-log.ts';
import { BadUserInputError, UnauthenticatedError, VigilError } from '../core/errors.ts';
import { actorName, type Principal } from '../core/principal.ts';
import { redactUrlsIn } from '../core/redact-url.ts';
import { findUnsafeInput, sanitisedDetail } from '../core/safe-input.ts';
import type { Context } from './context.ts';

/** Every root field starts here: the caller must hold at least `role`. */
export function authorize(ctx: Context, role: Role): Principal {
  if (ctx.authError) throw ctx.authError;
  return requireRole(ctx.principal, role);
}

export interface AuditSpec {
  action: string;
  role: Role;
  /** What the mutation acts on before it runs (an id, a name); the result's id replaces it on success. */
  target?: string;
  detail?: unknown;
}

/** How the audit log names a caller: its key, the revoked key it presented, or anonymous. */
export function auditActor(ctx: Pick<Context, 'principal' | 'authError'>): string {
  return ctx.authError instanceof UnauthenticatedError && ctx.authError.keyId ? `revoked key (${ctx.authError.keyId})` : actorName(ctx.principal);
}

function resultTarget(result: unknown): string | undefined {
  const shaped = result as { id?: unknown; apiKey?: { id?: unknown } } | null;
  const id = shaped?.id ?? shaped?.apiKey?.id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Authorises a mutation and writes its audit entry whatever the outcome:
 * REFUSED (no or weak key), FAILED (bad input, not found...) or ALLOWED.
 * ALLOWED is written in the transaction of the effect (the services join it,
 * see ambient-transaction.ts), so neither commits without the other; REFUSED
 * and FAILED are written in a transaction of their own, after the rollback.
 */
export async function audited<T>(ctx: Context, spec: AuditSpec, run: (principal: Principal) => Promise<T>): Promise<T> {
  const { audit } = ctx.services;
  // The gateway refuses hostile input before any resolver (useSafeInput); this is the backstop for
  // callers without it. Hostile arguments are never stored as they are, only described.
  const unsafe = findUnsafeInput(spec.detail ?? null, '');
  const record = (outcome: AuditOutcome, target: string, extra: Record<string, unknown> = {}): AuditRecord => ({
    actor: auditActor(ctx),
    action: spec.action,
    target,
    detail: unsafe ? sanitisedDetail(spec.detail, unsafe, extra, isCredentialKey) : { args: redactCredentials(spec.detail ?? null), ...extra },
    outcome,
  });
  let principal: Principal;
  try {
    principal = authorize(ctx, spec.role);
  } catch (error) {
    await audit.append(record('REFUSED', spec.target ?? '', { code: (error as VigilError).code }));
    throw error;
  }
  if (unsafe) {
    const error = new BadUserInputError(unsafe.field || 'input', unsafe.problem);
    await audit.append(record('FAILED', spec.target ?? '', { code: error.code, error: error.message }));
    throw error;
  }
  let allowedTarget = spec.target ?? '';
  try {
    return await ctx.services.inTransaction(async (tx) => {
      const result = await run(principal);
      allowedTarget = resultTarget(result) ?? allowedTarget;
      await audit.append(record('ALLOWED', allowedTarget), tx);
      return result;
    });
  } catch (error) {
    if (error instanceof AfterCommitError) {
      // The effect and its ALLOWED entry are committed; what was to follow them (a publish) did not happen.
      await audit.append(record('FAILED', allowedTarget, { code: 'INTERNAL', error: error.message, afterCommit: true }));
      throw error.cause;
    }
    const code = error instanceof VigilError ? error.code : 'INTERNAL';
    // Validation messages may quote a URL back.
    await audit.append(record('FAILED', spec.target ?? '', { code, error: error instanceof VigilError ? redactUrlsIn(error.message) : 'unexpected error' }));
    throw error;
  }
}

const CREDENTIAL_KEY = /secret|password|token|authorization|^headers$/i;

export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(key);
}

/** Mutation arguments as the audit log keeps them: credentials (a webhook secret, headers) replaced by a marker. */
export function redactCredentials(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactCredentials);
  // A URL's userinfo and query string (a webhook's ?token=...) are credentials too.
  if (typeof value === 'string') return redactUrlsIn(value);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
      key,
      CREDENTIAL_KEY.test(key) && inner != null ? '[redacted]' : redactCredentials(inner),
    ]),
  );
}
