import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node resolves `graphql` to its CommonJS entry (the package has no "exports"); Vite would pick
    // the "module" entry. Two copies of graphql cannot share a schema, so tests use Node's choice.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Socket-heavy tests (Kafka, graphql-ws) are steadier in child processes than in worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
