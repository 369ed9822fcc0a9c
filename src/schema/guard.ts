import type { Role } from '../generated/prisma/enums.ts';
import { requireRole } from '../resolvers/api-keys.ts';
import { VigilError } from '../resolvers/errors.ts';
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
      actor: actorName(ctx.principal),
      action: spec.action,
      target,
      detail: { args: spec.detail ?? null, ...extra },
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
  const resultId = (result as { id?: unknown } | null)?.id;
  await entry('ALLOWED', typeof resultId === 'string' ? resultId : (spec.target ?? ''));
  return result;
}
