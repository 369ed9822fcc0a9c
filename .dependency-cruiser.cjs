/**
 * Imports run one way: each folder of src/ may import only the folders below
 * it (README, "Architecture"). `npm run lint:imports` checks it; `npm test`
 * runs it first, so CI fails on a violation. No exceptions are listed here:
 * a new need for one means a piece is in the wrong folder.
 *
 *   main.ts, cli/, app/     wire everything (composition root)
 *   gateway/                HTTP and WebSocket edge
 *   schema/                 GraphQL face: services only, never the database client
 *   workflows/              BullMQ runbooks and recurring jobs
 *   services/, audit/       the service layer and the audit chain
 *   stream/                 Kafka in, contracts, the worker's batch path
 *   incidents/              grouping, policy, notices
 *   detectors/              pure scoring
 *   store/ outbound/ pubsub/ telemetry/   adapters
 *   core/                   errors, ids, config, param checks
 *
 * Prisma's generated enums are plain string unions, so the pure layers may
 * import them as types.
 */
const ENUMS = '^src/generated/prisma/enums\\.ts$';
const GENERATED = '^src/generated/';

/** A rule: files under `folder` may import nothing in src/ except `allowed` (folder names or regexps). */
function onlyImports(folder, allowed, comment) {
  const targets = allowed.map((a) => (a.startsWith('^') ? a : `^src/${a}/`));
  return {
    name: `${folder.replace(/[^a-z]/g, '') || 'root'}-imports-downward`,
    comment,
    severity: 'error',
    from: { path: `^src/${folder}` },
    to: { path: '^src/', pathNot: [`^src/${folder}`, ...targets] },
  };
}

const ADAPTERS = ['store', 'outbound', 'pubsub', 'telemetry'];

module.exports = {
  forbidden: [
    onlyImports('core/', [ENUMS], 'core is imported by everything, so it imports nothing'),
    onlyImports('detectors/', ['core', ENUMS], 'detectors are pure: no I/O, no service, no database'),
    onlyImports('store/', ['core', GENERATED], 'the database client knows nothing of what is stored'),
    onlyImports('outbound/', ['core'], 'outbound requests are an adapter'),
    onlyImports('pubsub/', ['core', 'store'], 'pub/sub is an adapter'),
    onlyImports('telemetry/', ['core'], 'telemetry is an adapter: it measures, it does not query'),
    onlyImports('incidents/', ['core', GENERATED], 'incidents group anomalies; the batch path calls them'),
    onlyImports('stream/', ['core', 'detectors', 'incidents', GENERATED, ...ADAPTERS], 'the worker never reaches up into services, workflows or the schema'),
    onlyImports('audit/', ['core', GENERATED, 'store'], 'the audit chain sits under the services that write it'),
    onlyImports('services/', ['core', 'detectors', 'incidents', 'stream', 'audit', GENERATED, ...ADAPTERS], 'services never reach up into workflows, the schema or the gateway'),
    onlyImports('workflows/', ['core', 'detectors', 'incidents', 'stream', 'services', 'audit', GENERATED, ...ADAPTERS], 'workflows run beside the service layer, below the API'),
    {
      name: 'schema-not-database',
      comment: 'the GraphQL face reads through services; it never holds the database client',
      severity: 'error',
      from: { path: '^src/schema/' },
      to: { path: ['^src/store/', '^src/(stream|workflows|gateway|app|cli)/', '^src/main\\.ts$'] },
    },
    {
      name: 'schema-generated-types-only',
      comment: 'Prisma model types name the rows a resolver returns; queries go through services',
      severity: 'error',
      from: { path: '^src/schema/' },
      to: { path: GENERATED, dependencyTypesNot: ['type-only'] },
    },
    onlyImports('gateway/', ['core', 'schema', 'services', 'telemetry', GENERATED], 'the edge serves the schema'),
    {
      // Folders cannot form a cycle: the rules above allow each folder only the ones below it.
      // Modules within a folder may name each other's types (a detector and its registry) but
      // not load each other at run time, where a cycle decides the order of initialisation.
      name: 'no-runtime-cycles',
      comment: 'a runtime import cycle makes module initialisation order matter',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'service-code-not-dev-tooling',
      comment: 'dev/, bench/, test/ and chaos/ are not shipped service code; src/main.ts and src/cli may launch dev tooling',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(main\\.ts|cli/)' },
      to: { path: '^(dev|bench|test|chaos|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '^src/generated/'] },
    includeOnly: '^(src|dev|bench)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
  },
};
