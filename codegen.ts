import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The typed client in sdk/generated/index.ts, from schema.graphql and the
 * operations in sdk/operations. Run `npm run sdk:generate` after changing
 * either; test/integration/sdk.test.ts fails while the checked-in file is stale.
 *
 * typescript-operations (v6) writes the enums and input types the operations
 * use itself, so the `typescript` plugin is not listed: together they declare
 * every enum and input twice. Documents are DocumentNode objects: the
 * `string` mode needs a TypedDocumentString class this plugin set never emits.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: 'sdk/operations/**/*.graphql',
  generates: {
    'sdk/generated/index.ts': {
      plugins: ['typescript-operations', 'typescript-graphql-request'],
      config: {
        documentMode: 'documentNode',
        // verbatimModuleSyntax: DocumentNode, RequestOptions and GraphQLClient are imported as types.
        useTypeImports: true,
        // Enums as string unions: callers write 'ZSCORE', not an imported enum member.
        enumType: 'string-literal',
        scalars: { DateTime: 'string', JSON: 'unknown' },
        // A new custom scalar must be mapped here rather than silently typed `any`.
        strictScalars: true,
      },
    },
  },
};

export default config;
