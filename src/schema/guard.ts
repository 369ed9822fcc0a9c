import type { Role } from '../generated/prisma/enums.ts';
import { requireRole } from '../resolvers/api-keys.ts';
import { UnauthenticatedError, VigilError } from '../resolvers/errors.ts';
import { actorName, type Principal } from '../resolvers/principal.ts';
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

/**
 * Authorises a mutation and writes its audit entry whatever the outcome:
 * REFUSED (no or weak key), FAILED (bad input, not found...) or ALLOWED.
 */
export async function audited<T>(ctx: Context, spec: AuditSpec, run: (principal: Principal) => Promise<T>): Promise<T> {
  const { audit } = ctx.services;
  const entry = (outcome: 'ALLOWED' | 'REFUSED' | 'FAILED', target: string, extra?: Record<string, unknown>) =>
    audit.append({
      actor: ctx.authError instanceof UnauthenticatedError && ctx.authError.keyId ? `revoked key (${ctx.authError.keyId})` : actorName(ctx.principal),
      action: spec.action,
      target,
      detail: { args: redactCredentials(spec.detail ?? null), ...extra },
      outcome,
    });
  let principal: Principal;
  try {
    principal = authorize(ctx, spec.role);
  } catch (error) {
    await entry('REFUSED', spec.target ?? '', { code: (error as VigilError).code });
    throw error;
  }
  let result: T;
  try {
    result = await run(principal);
  } catch (error) {
    const code = error instanceof VigilError ? error.code : 'INTERNAL';
    await entry('FAILED', spec.target ?? '', { code, error: error instanceof VigilError ? error.message : 'unexpected error' });
    throw error;
  }
  const shaped = result as { id?: unknown; apiKey?: { id?: unknown } } | null;
  const resultId = shaped?.id ?? shaped?.apiKey?.id;
  await entry('ALLOWED', typeof resultId === 'string' ? resultId : (spec.target ?? ''));
  return result;
}

const CREDENTIAL_KEY = /secret|password|token|authorization|^headers$/i;

/** Mutation arguments as the audit log keeps them: credentials (a webhook secret, headers) replaced by a marker. */
export function redactCredentials(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactCredentials);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
      key,
      CREDENTIAL_KEY.test(key) && inner != null ? '[redacted]' : redactCredentials(inner),
    ]),
  );
}
