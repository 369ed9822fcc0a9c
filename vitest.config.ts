import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node resolves `graphql` to its CommonJS entry (the package has no "exports"); Vite would pick
    // the "module" entry. Two copies of graphql cannot share a schema, so tests use Node's choice.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    // Socket-heavy tests (Kafka, graphql-ws) are steadier in child processes than in worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      // Pure code: no services, so running a unit file never touches the shared test database.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'services',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/security/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          // Starts the broker if needed and recreates the test database once per run.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      // The console in Debian's Chromium (playwright-core) against a real gateway and worker.
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'] } },
    ],
  },
});
