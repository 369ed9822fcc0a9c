import { BadUserInputError } from '../core/errors.ts';

/**
 * Relay pagination over time-ordered ids (see ids.ts): a cursor is the id of
 * the last row seen, so pages stay stable while rows are inserted.
 */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** A page of a list that can be read in either order (see ListOrder). */
export interface OrderedPageArgs extends PageArgs {
  orderBy?: ListOrder | null;
}

export interface Page {
  take: number;
  afterId: string | undefined;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export function encodeCursor(id: string): string {
  return Buffer.from(`c:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith('c:') || decoded.length < 3) throw new BadUserInputError(field, 'is not a cursor returned by this API');
  return decoded.slice(2);
}

export function parsePage(args: PageArgs): Page {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new BadUserInputError('first', `must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${first}`);
  }
  return { take: first, afterId: args.after ? decodeCursor(args.after) : undefined };
}

/** Fetches one row more than asked, to know whether a next page exists. */
export async function paginate<T extends { id: string }>(
  args: PageArgs,
  fetch: (page: { take: number; afterId: string | undefined }) => Promise<T[]>,
): Promise<Connection<T>> {
  const page = parsePage(args);
  const rows = await fetch({ take: page.take + 1, afterId: page.afterId });
  const hasNextPage = rows.length > page.take;
  const nodes = hasNextPage ? rows.slice(0, page.take) : rows;
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node.id), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: page.afterId !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

/** The Prisma `where`/`orderBy` fragment for an id-keyset page. */
export function idKeyset(afterId: string | undefined): { id?: { gt: string } } {
  return afterId === undefined ? {} : { id: { gt: afterId } };
}

/**
 * The orders a list can be read in. Ids are time-ordered, so ordering by id
 * is ordering by creation and a cursor (the last id seen) stays valid in
 * either direction; any other order would need a cursor of its own.
 */
export type ListOrder = 'NEWEST_FIRST' | 'OLDEST_FIRST';

/** Lists of things that keep happening (anomalies, incidents, executions, dead letters, audit entries) read newest first. */
export const DEFAULT_LIST_ORDER: ListOrder = 'NEWEST_FIRST';

/** The Prisma `where` and `orderBy` fragments of an id-keyset page read in `order`. */
export function orderedKeyset(afterId: string | undefined, order: ListOrder | null | undefined) {
  const newestFirst = (order ?? DEFAULT_LIST_ORDER) === 'NEWEST_FIRST';
  return {
    where: afterId === undefined ? {} : { id: newestFirst ? { lt: afterId } : { gt: afterId } },
    orderBy: { id: newestFirst ? ('desc' as const) : ('asc' as const) },
  };
}
