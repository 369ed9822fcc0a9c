import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db, Prisma } from './db.ts';

/**
 * The transaction a mutation runs in, reachable from every service without
 * passing it down: runAudited() (schema/guard.ts) opens it, the services' `db` (a proxy, see
 * ambientDb) sends their queries into it, and the ALLOWED audit entry is
 * written in it last, so the effect and its entry commit or roll back together.
 */
export type Tx = Prisma.TransactionClient;

interface Ambient {
  tx: Tx;
  /** False once the transaction has ended: work started inside it but outliving it must not use a closed tx. */
  open: boolean;
  afterCommit: (() => Promise<void>)[];
}

const storage = new AsyncLocalStorage<Ambient>();

/**
 * Generous: registerStream creates Kafka topics inside the transaction. The
 * wait for a connection is bounded so a saturated pool fails a mutation
 * rather than queueing it without limit.
 */
export const MUTATION_TRANSACTION = { timeout: 60_000, maxWait: 10_000 } as const;

/** A follow-up (pub/sub publish, registry bump, Kafka produce) failed after the transaction committed. */
export class AfterCommitError extends Error {
  constructor(override readonly cause: unknown) {
    super(`committed, but a follow-up failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'AfterCommitError';
  }
}

function active(): Ambient | undefined {
  const ambient = storage.getStore();
  return ambient?.open ? ambient : undefined;
}

/** The ambient transaction, if this code runs inside one. */
export function ambientTransaction(): Tx | undefined {
  return active()?.tx;
}

/**
 * Runs `work` in a transaction that services join through ambientDb, then
 * the hooks queued by afterCommit (only if it committed). Inside an ambient
 * transaction already, `work` joins it.
 */
export async function inAmbientTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const outer = active();
  if (outer) return work(outer.tx);
  let ambient: Ambient | undefined;
  let result: T;
  try {
    result = await db.$transaction((tx) => {
      ambient = { tx, open: true, afterCommit: [] };
      return storage.run(ambient, () => work(tx));
    }, MUTATION_TRANSACTION);
  } finally {
    if (ambient) ambient.open = false;
  }
  let failure: unknown;
  for (const hook of ambient?.afterCommit ?? []) {
    // Every hook runs even if one fails: one failed publish must not swallow the rest.
    await hook().catch((error: unknown) => {
      failure ??= error;
    });
  }
  if (failure !== undefined) throw new AfterCommitError(failure);
  return result;
}

/**
 * Effects outside PostgreSQL that announce a row (a pub/sub message, the
 * registry version workers reload on): inside an ambient transaction they
 * wait for the commit, so nobody hears of a row that then rolls back, or
 * reloads before it is visible. Outside one they run now.
 */
export function afterCommit(hook: () => Promise<void>): Promise<void> {
  const ambient = active();
  if (!ambient) return hook();
  ambient.afterCommit.push(hook);
  return Promise.resolve();
}

function bound(source: object, value: unknown): unknown {
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(source) : value;
}

/**
 * The services' database handle: the Prisma client itself outside a mutation
 * (workers, workflows, queries), the ambient transaction inside one. A nested
 * `$transaction(fn)` becomes `fn(tx)` and the array form sequential awaits:
 * PostgreSQL has no nested transactions, and the ambient one already makes
 * the block atomic.
 */
export function ambientDb(db: Db): Db {
  const nestedTransaction = (tx: Tx) =>
    async function $transaction(work: unknown): Promise<unknown> {
      if (typeof work === 'function') return (work as (tx: Tx) => Promise<unknown>)(tx);
      const results: unknown[] = [];
      // Prisma promises are lazy: awaiting them one by one runs them in order.
      for (const query of work as PromiseLike<unknown>[]) results.push(await query);
      return results;
    };
  return new Proxy(db, {
    get(target, property) {
      const ambient = active();
      if (ambient) {
        if (property === '$transaction') return nestedTransaction(ambient.tx);
        const fromTx = Reflect.get(ambient.tx, property);
        // $connect, $disconnect, $on... exist on the client only.
        if (fromTx !== undefined) return bound(ambient.tx, fromTx);
      }
      return bound(target, Reflect.get(target, property));
    },
  });
}
