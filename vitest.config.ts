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
    // Most of a service test's time is spent waiting on Kafka, timers and child processes, not on the CPU:
    // three files side by side (Vitest's default on 2 cores is one) finish in about half the time.
    // Each file uses names of its own (uniqueName), so they never see each other's data.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      // Pure code: no services, so running a unit file never touches the shared test database.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 1 } } },
      {
        extends: true,
        test: {
          name: 'services',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/security/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          // Starts the broker if needed and recreates the test database once per run.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      // The console in Debian's Chromium (playwright-core) against a real gateway and worker. It runs
      // first and alone (groupOrder 0), so the screenshots it writes for docs/ show its own data only.
      {
        extends: true,
        test: { name: 'browser', include: ['test/browser/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'], sequence: { groupOrder: 0 } },
      },
    ],
  },
});
