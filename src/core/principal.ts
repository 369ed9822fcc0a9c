import type { Role } from '../generated/prisma/enums.ts';

/** Who is calling: an API key (or the configured admin secret) and its role. */
export interface Principal {
  /** The ApiKey id, or "env:VIGIL_ADMIN_KEY" for the configured admin secret. */
  keyId: string;
  name: string;
  role: Role;
}

const RANK: Record<Role, number> = { VIEWER: 1, OPERATOR: 2, ADMIN: 3 };

export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/** The actor name written to the audit log and timelines. */
export function actorName(principal: Principal | null): string {
  return principal ? `${principal.name} (${principal.keyId})` : 'anonymous';
}
