import type { Db } from '../store/db.ts';
import { BadUserInputError } from '../core/errors.ts';
import { orderedKeyset, paginate, type OrderedPageArgs } from './pagination.ts';

/** What `auditLog` can be narrowed to; every part optional, all given parts must hold. */
export interface AuditLogFilter {
  /** Exactly as entries name it: an API key's name, "admin key", "anonymous", "revoked key (key_...)". */
  actor?: string | null;
  /** Mutation names, e.g. ["archiveStream", "restoreStream"]. */
  actions?: string[] | null;
  /** The id (or, for a refused call, the name) the mutation acted on. */
  target?: string | null;
  /** ALLOWED, REFUSED or FAILED. */
  outcome?: string | null;
  /** Entries written at or after this time. */
  since?: Date | null;
  /** Entries written before this time. */
  until?: Date | null;
}

const OUTCOMES = ['ALLOWED', 'REFUSED', 'FAILED'];
const MAX_ACTIONS = 50;

/**
 * Reading the audit log (writing it is src/audit/audit-log.ts). Entries are
 * time-ordered by id, so the page cursor works with any filter and either order.
 */
export class AuditEntryService {
  constructor(private readonly db: Db) {}

  list(filter: AuditLogFilter | null | undefined, args: OrderedPageArgs) {
    const where = auditWhere(filter);
    return paginate(args, ({ take, afterId }) => {
      const page = orderedKeyset(afterId, args.orderBy);
      return this.db.auditEntry.findMany({ where: { ...where, ...page.where }, orderBy: page.orderBy, take });
    });
  }
}

/** The filter as a Prisma `where`, each part checked first: BAD_USER_INPUT names the part at fault. */
export function auditWhere(filter: AuditLogFilter | null | undefined) {
  if (!filter) return {};
  const text = (value: string | null | undefined, field: string) => {
    if (value == null) return undefined;
    if (value === '' || value.length > 500) throw new BadUserInputError(`filter.${field}`, 'must be 1 to 500 characters');
    return value;
  };
  const actor = text(filter.actor, 'actor');
  const target = text(filter.target, 'target');
  if (filter.actions != null) {
    if (filter.actions.length === 0 || filter.actions.length > MAX_ACTIONS) {
      throw new BadUserInputError('filter.actions', `give 1 to ${MAX_ACTIONS} action names`);
    }
    filter.actions.forEach((action, i) => text(action, `actions[${i}]`));
  }
  if (filter.outcome != null && !OUTCOMES.includes(filter.outcome)) {
    throw new BadUserInputError('filter.outcome', `must be one of ${OUTCOMES.join(', ')}`);
  }
  if (filter.since && filter.until && filter.since >= filter.until) {
    throw new BadUserInputError('filter.until', 'must be later than filter.since');
  }
  const at = { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) };
  return {
    ...(actor !== undefined ? { actor } : {}),
    ...(filter.actions != null ? { action: { in: filter.actions } } : {}),
    ...(target !== undefined ? { target } : {}),
    ...(filter.outcome != null ? { outcome: filter.outcome } : {}),
    ...(filter.since || filter.until ? { at } : {}),
  };
}
