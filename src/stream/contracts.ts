import type { Db } from '../store/db.ts';
import { compileValidator, type JsonSchema } from './json-schema.ts';

export type Validate = ReturnType<typeof compileValidator>;

/** Called once per schema version that cannot be enforced, with why. */
export type UnusableSchemaListener = (streamId: string, version: number, reason: string) => void;

/** Called once per schema version compiled, with how long compiling took. */
export type CompiledSchemaListener = (streamId: string, version: number, ms: number) => void;

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
 * Data contracts, one per (stream, schema version). Compiling a JSON Schema
 * costs milliseconds (far more for big ones); validating against a compiled
 * one, microseconds. A contract is compiled when its first event is checked,
 * not when it is loaded: a worker starting over hundreds of streams, paused
 * ones and old versions included, compiles only what its events need.
 * Versions are immutable, so entries never go stale.
 */
export class ContractCache {
  private readonly known = new Map<string, Validate>();
  private readonly fetching = new Map<string, Promise<Validate>>();

  constructor(
    private readonly db: Db,
    private readonly onUnusable: UnusableSchemaListener = () => undefined,
    private readonly onCompiled: CompiledSchemaListener = () => undefined,
  ) {}

  /** Whether this version's schema is held already (so its caller need not fetch it). */
  has(streamId: string, version: number): boolean {
    return this.known.has(contractKey(streamId, version));
  }

  /** The version's validator from its stored schema (used only if the version is not held yet), compiled on its first call. */
  lazy(streamId: string, version: number, schema: unknown): Validate {
    const key = contractKey(streamId, version);
    let validate = this.known.get(key);
    if (!validate) {
      let source: unknown = schema;
      let compiled: Validate | undefined;
      validate = (value) => {
        if (!compiled) {
          compiled = this.compile(streamId, version, source);
          // The compiled validator is all that is needed from now on.
          source = undefined;
        }
        return compiled(value);
      };
      this.known.set(key, validate);
    }
    return validate;
  }

  /** The version's validator, its schema fetched if not held (compiled, as always, on first call). */
  validator(streamId: string, version: number): Promise<Validate> {
    const key = contractKey(streamId, version);
    const known = this.known.get(key);
    if (known) return Promise.resolve(known);
    let entry = this.fetching.get(key);
    if (!entry) {
      entry = this.db.streamSchemaVersion
        .findUniqueOrThrow({ where: { streamId_version: { streamId, version } } })
        .then((row) => this.lazy(streamId, version, row.schema))
        .finally(() => this.fetching.delete(key));
      this.fetching.set(key, entry);
    }
    return entry;
  }

  private compile(streamId: string, version: number, schema: unknown): Validate {
    const startedAt = performance.now();
    const contract = storedContract(schema);
    this.onCompiled(streamId, version, performance.now() - startedAt);
    if (contract.unusable !== undefined) this.onUnusable(streamId, version, contract.unusable);
    return contract.validate;
  }
}

function contractKey(streamId: string, version: number): string {
  return `${streamId}@${version}`;
}
