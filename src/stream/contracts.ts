import type { Db } from '../db.ts';
import { compileValidator, type JsonSchema } from './json-schema.ts';

export type Validate = ReturnType<typeof compileValidator>;

/** Called once per schema version that cannot be enforced, with why. */
export type UnusableSchemaListener = (streamId: string, version: number, reason: string) => void;

/**
 * A validator for a stored schema version, which never throws: a version
 * registered before today's limits or regex engine that now exceeds the limits
 * ("stream schema exceeds limits: ...", never compiled) or no longer compiles
 * refuses every event with that reason, so its events become dead letters
 * instead of a worker that cannot load its catalog, or one frozen compiling
 * a 200k-entry enum. `unusable` says why, when so.
 */
export function storedContract(schema: unknown): { validate: Validate; unusable?: string } {
  try {
    return { validate: compileValidator(schema as JsonSchema) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { validate: () => ({ ok: false, reason }), unusable: reason };
  }
}

/**
 * Compiled data contracts, one per (stream, schema version). Compiling a JSON
 * Schema costs milliseconds; validating against a compiled one, microseconds.
 * Versions are immutable, so entries never go stale.
 */
export class ContractCache {
  private readonly compiled = new Map<string, Promise<Validate>>();

  constructor(
    private readonly db: Db,
    private readonly onUnusable: UnusableSchemaListener = () => undefined,
  ) {}

  validator(streamId: string, version: number): Promise<Validate> {
    const key = `${streamId}@${version}`;
    let entry = this.compiled.get(key);
    if (!entry) {
      entry = this.db.streamSchemaVersion.findUniqueOrThrow({ where: { streamId_version: { streamId, version } } }).then((row) => {
        const contract = storedContract(row.schema);
        if (contract.unusable !== undefined) this.onUnusable(streamId, version, contract.unusable);
        return contract.validate;
      });
      entry.catch(() => this.compiled.delete(key));
      this.compiled.set(key, entry);
    }
    return entry;
  }
}
