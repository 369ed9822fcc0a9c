import type { Db } from '../store/db.ts';
import { AfterCommitError, inAmbientTransaction, type Tx } from '../store/ambient-transaction.ts';

export { AfterCommitError, type Tx };

/**
 * One mutation, one transaction: the services' queries inside `work` join it
 * (ambient-transaction.ts), so the schema runs a mutation and its audit entry
 * together without ever holding the database client itself.
 */
export function transactionRunner(db: Db) {
  return <T>(work: (tx: Tx) => Promise<T>): Promise<T> => inAmbientTransaction(db, work);
}
