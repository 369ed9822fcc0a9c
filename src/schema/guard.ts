import { clearAllDataLoaders } from '@pothos/plugin-dataloader';
import type { Role } from '../generated/prisma/enums.ts';
import { requireRole } from '../services/api-keys.ts';
import { AfterCommitError } from '../services/transaction.ts';
import type { AuditOutcome, AuditRecord } from '../audit/audit-log.ts';
import { BadUserInputError, UnauthenticatedError, VigilError } from '../core/errors.ts';
import { actorName, type Principal } from '../core/principal.ts';
import { redactUrlsIn } from '../core/redact-url.ts';
import { findUnsafeInput, sanitisedDetail } from '../core/safe-input.ts';
import type { Context } from './context.ts';

/** The check behind every `authScopes: { role }` (builder.ts) and a subscription's recheck: the caller must hold at least `role`. */
export function authorize(ctx: Context, role: Role): Principal {
  if (ctx.authError) throw ctx.authError;
  return requireRole(ctx.principal, role);
}

/** What a mutation's audit entry records besides its action (the mutation's name) and outcome. */
export interface AuditTarget {
  /** What the mutation acts on before it runs (an id, a name); the result's id replaces it on success. */
  target?: string;
  detail?: unknown;
}

export interface AuditSpec extends AuditTarget {
  action: string;
}

/** The caller of a field behind an authScopes rule: scope-auth has already refused anyone else. */
export function principalOf(ctx: Context): Principal {
  if (!ctx.principal) throw new UnauthenticatedError();
  return ctx.principal;
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

function auditRecord(ctx: Context, spec: AuditSpec, outcome: AuditOutcome, target: string, extra: Record<string, unknown> = {}): AuditRecord {
  // The gateway refuses hostile input before any resolver (useSafeInput); this is the backstop for
  // callers without it. Hostile arguments are never stored as they are, only described.
  const unsafe = findUnsafeInput(spec.detail ?? null, '');
  return {
    actor: auditActor(ctx),
    action: spec.action,
    target,
    detail: unsafe ? sanitisedDetail(spec.detail, unsafe, extra, isCredentialKey) : { args: redactCredentials(spec.detail ?? null), ...extra },
    outcome,
  };
}

/** The REFUSED entry of a mutation scope-auth turned away (no key, a revoked one, a role too low). */
export async function auditRefused(ctx: Context, spec: AuditSpec, error: Error): Promise<void> {
  const code = error instanceof VigilError ? error.code : 'FORBIDDEN';
  await ctx.services.audit.append(auditRecord(ctx, spec, 'REFUSED', spec.target ?? '', { code }));
}

/**
 * Runs an authorised mutation and writes its audit entry whatever the outcome:
 * FAILED (bad input, not found...) or ALLOWED. ALLOWED is written in the
 * transaction of the effect (the services join it, see ambient-transaction.ts),
 * so neither commits without the other; FAILED is written in a transaction of
 * its own, after the rollback. REFUSED is auditRefused's, called by scope-auth.
 */
export async function runAudited<T>(ctx: Context, spec: AuditSpec, run: () => Promise<T>): Promise<T> {
  const { audit } = ctx.services;
  const unsafe = findUnsafeInput(spec.detail ?? null, '');
  if (unsafe) {
    const error = new BadUserInputError(unsafe.field || 'input', unsafe.problem);
    await audit.append(auditRecord(ctx, spec, 'FAILED', spec.target ?? '', { code: error.code, error: error.message }));
    throw error;
  }
  // Rows a loader cached earlier in this request (an earlier mutation of the document) may be about to change.
  clearAllDataLoaders(ctx);
  let allowedTarget = spec.target ?? '';
  try {
    return await ctx.services.inTransaction(async (tx) => {
      const result = await run();
      allowedTarget = resultTarget(result) ?? allowedTarget;
      await audit.append(auditRecord(ctx, spec, 'ALLOWED', allowedTarget), tx);
      return result;
    });
  } catch (error) {
    if (error instanceof AfterCommitError) {
      // The effect and its ALLOWED entry are committed; what was to follow them (a publish) did not happen.
      await audit.append(auditRecord(ctx, spec, 'FAILED', allowedTarget, { code: 'INTERNAL', error: error.message, afterCommit: true }));
      throw error.cause;
    }
    const code = error instanceof VigilError ? error.code : 'INTERNAL';
    // Validation messages may quote a URL back.
    await audit.append(
      auditRecord(ctx, spec, 'FAILED', spec.target ?? '', { code, error: error instanceof VigilError ? redactUrlsIn(error.message) : 'unexpected error' }),
    );
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
