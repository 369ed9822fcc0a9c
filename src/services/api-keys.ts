import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/db.ts';
import type { ApiKey } from '../generated/prisma/client.ts';
import type { Role } from '../generated/prisma/enums.ts';
import { newId } from '../core/ids.ts';
import { BadUserInputError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../core/errors.ts';
import { roleAtLeast, type Principal } from '../core/principal.ts';

export const ADMIN_KEY_ID = 'env:VIGIL_ADMIN_KEY';
const ROLES: readonly Role[] = ['VIEWER', 'OPERATOR', 'ADMIN'];
/** lastUsedAt is informational; writing it on every request would turn reads into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export class ApiKeyService {
  private readonly adminKeyHash: Buffer | undefined;

  constructor(
    private readonly db: Db,
    adminKey: string | undefined,
  ) {
    this.adminKeyHash = adminKey ? Buffer.from(hashSecret(adminKey), 'hex') : undefined;
  }

  async create(name: string, role: Role): Promise<{ apiKey: ApiKey; secret: string }> {
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 100) throw new BadUserInputError('name', 'must be 1 to 100 characters');
    if (!ROLES.includes(role)) throw new BadUserInputError('role', `must be one of ${ROLES.join(', ')}`);
    const secret = `vgl_${randomBytes(32).toString('base64url')}`;
    const apiKey = await this.db.apiKey.create({
      data: { id: newId('ApiKey'), name: trimmed, role, secretHash: hashSecret(secret) },
    });
    return { apiKey, secret };
  }

  async revoke(id: string): Promise<ApiKey> {
    const existing = await this.db.apiKey.findUnique({ where: { id } });
    if (!existing) throw new NotFoundError('API key', id, 'id');
    if (existing.revokedAt) return existing;
    return this.db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
  }

  list(): Promise<ApiKey[]> {
    return this.db.apiKey.findMany({ orderBy: { id: 'asc' } });
  }

  /**
   * Resolves an Authorization value ("Bearer <secret>" or the bare secret) to
   * a principal. Null when no credential was sent; UNAUTHENTICATED when one
   * was sent but is unknown or revoked. Looked up on every call, so a
   * revocation takes effect at once.
   */
  async authenticate(authorization: string | undefined | null): Promise<Principal | null> {
    if (!authorization) return null;
    const secret = authorization.replace(/^Bearer\s+/i, '').trim();
    if (secret === '') return null;
    const hash = hashSecret(secret);
    if (this.adminKeyHash && timingSafeEqual(this.adminKeyHash, Buffer.from(hash, 'hex'))) {
      return { keyId: ADMIN_KEY_ID, name: 'admin', role: 'ADMIN' };
    }
    const key = await this.db.apiKey.findUnique({ where: { secretHash: hash } });
    if (!key) throw new UnauthenticatedError('the API key is unknown or revoked');
    if (key.revokedAt) throw new UnauthenticatedError('the API key is unknown or revoked', key.id);
    if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.db.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
    }
    return { keyId: key.id, name: key.name, role: key.role };
  }

  /** The keys among `principals` that are no longer valid. */
  async revokedAmong(principals: Principal[]): Promise<Set<string>> {
    const revoked = new Set<string>();
    if (!this.adminKeyHash && principals.some((p) => p.keyId === ADMIN_KEY_ID)) revoked.add(ADMIN_KEY_ID);
    const stored = principals.filter((p) => p.keyId !== ADMIN_KEY_ID).map((p) => p.keyId);
    if (stored.length === 0) return revoked;
    const valid = await this.db.apiKey.findMany({ where: { id: { in: stored }, revokedAt: null }, select: { id: true } });
    const validIds = new Set(valid.map((k) => k.id));
    for (const id of stored) if (!validIds.has(id)) revoked.add(id);
    return revoked;
  }

  /** True while the principal's key is still valid; used to end subscriptions of revoked keys. */
  async stillValid(principal: Principal): Promise<boolean> {
    if (principal.keyId === ADMIN_KEY_ID) return this.adminKeyHash !== undefined;
    const key = await this.db.apiKey.findUnique({ where: { id: principal.keyId }, select: { revokedAt: true } });
    return key !== null && key.revokedAt === null;
  }
}

export function requireRole(principal: Principal | null, required: Role): Principal {
  if (!principal) throw new UnauthenticatedError();
  if (!roleAtLeast(principal.role, required)) {
    throw new ForbiddenError(`this needs the ${required} role; the key "${principal.name}" has ${principal.role}`);
  }
  return principal;
}
