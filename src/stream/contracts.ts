import type { Db } from '../db.ts';
import { compileValidator } from './json-schema.ts';

export type Validate = ReturnType<typeof compileValidator>;

/**
 * Compiled data contracts, one per (stream, schema version). Compiling a JSON
 * Schema costs milliseconds; validating against a compiled one, microseconds.
 * Versions are immutable, so entries never go stale.
 */
export class ContractCache {
  private readonly compiled = new Map<string, Promise<Validate>>();

  constructor(private readonly db: Db) {}

  validator(streamId: string, version: number): Promise<Validate> {
    const key = `${streamId}@${version}`;
    let entry = this.compiled.get(key);
    if (!entry) {
      entry = this.db.streamSchemaVersion
        .findUniqueOrThrow({ where: { streamId_version: { streamId, version } } })
        .then((row) => compileValidator(row.schema as never));
      entry.catch(() => this.compiled.delete(key));
      this.compiled.set(key, entry);
    }
    return entry;
  }
}
