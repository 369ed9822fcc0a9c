import SchemaBuilder, {
  BasePlugin,
  PothosSchemaError,
  type FieldNullability,
  type InputFieldMap,
  type InputShapeFromFields,
  type PothosOutputFieldConfig,
  type SchemaTypes,
  type TypeParam,
} from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import type { Context } from './context.ts';
import { auditRefused, runAudited, type AuditTarget } from './guard.ts';

/**
 * Access rules as part of the schema's build, beside scope-auth (listed
 * after it, so scope-auth's check wraps everything here):
 * - a root field (query, mutation, subscription) without `authScopes` fails
 *   the build: a forgotten rule cannot ship;
 * - a mutation without `audit` fails the build; with it, the resolver runs in
 *   one transaction with its ALLOWED entry, a failure writes FAILED, and a
 *   refusal by scope-auth writes REFUSED (through scope-auth's
 *   `unauthorizedResolver`) before the error goes back to the caller.
 * The action audited is the mutation's name.
 */
const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      vigilAccess: VigilAccessPlugin<Types>;
    }
    interface MutationFieldOptions<
      Types extends SchemaTypes,
      Type extends TypeParam<Types>,
      Nullable extends FieldNullability<Type>,
      Args extends InputFieldMap,
      ResolveReturnShape,
    > {
      /** What the audit entry names as the mutation's target and keeps of its arguments. */
      audit: (args: InputShapeFromFields<Args>) => AuditTarget;
    }
  }
}

type Resolver<Types extends SchemaTypes> = GraphQLFieldResolver<unknown, Types['Context'], object>;
type Describe = (args: object) => AuditTarget;

export class VigilAccessPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    if (!ROOT_TYPES.has(fieldConfig.parentType)) return fieldConfig;
    const options = fieldConfig.pothosOptions as { authScopes?: unknown; audit?: Describe };
    const where = `${fieldConfig.parentType}.${fieldConfig.name}`;
    if (options.authScopes === undefined) {
      throw new PothosSchemaError(`${where} has no authScopes: every root field declares the role it needs (e.g. authScopes: { role: 'VIEWER' })`);
    }
    if (fieldConfig.parentType !== 'Mutation') return fieldConfig;
    const describe = options.audit;
    if (typeof describe !== 'function') {
      throw new PothosSchemaError(`${where} has no audit: every mutation names what its audit entry records (audit: (args) => ({ target }))`);
    }
    const action = fieldConfig.name;
    // scope-auth calls this instead of the resolver when the caller is refused.
    const unauthorizedResolver = async (_root: unknown, args: object, ctx: Context, _info: unknown, error: Error) => {
      await auditRefused(ctx, { action, ...describe(args) }, error);
      throw error;
    };
    return { ...fieldConfig, pothosOptions: { ...fieldConfig.pothosOptions, unauthorizedResolver } } as PothosOutputFieldConfig<Types>;
  }

  override wrapResolve(resolver: Resolver<Types>, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> {
    if (fieldConfig.parentType !== 'Mutation') return resolver;
    const describe = (fieldConfig.pothosOptions as { audit: Describe }).audit;
    const action = fieldConfig.name;
    return (root, args, ctx, info) =>
      runAudited(ctx as Context, { action, ...describe(args) }, () => Promise.resolve(resolver(root, args, ctx, info)));
  }
}

SchemaBuilder.registerPlugin('vigilAccess', VigilAccessPlugin);
