import { defineConfig } from 'vitest/config';

/**
 * Tests that bound wall-clock time (/healthz within 8 s of a start, the service answering within
 * 100 ms after a hostile probe): they run last, once the other files are done, so the bound measures
 * the service and not the two cores being shared with three other test files (a first start's
 * /healthz took 8.3 s amid the others and 2.2 s alone).
 */
const TIMED = [
  'test/e2e/restarts.test.ts',
  'test/security/data-contracts.test.ts',
  'test/security/rate-limits.test.ts',
  'test/security/request-limits.test.ts',
  'test/security/subscriptions.test.ts',
];

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
          exclude: TIMED,
          // Starts the broker if needed and recreates the test database once per run.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      // One file at a time: side by side, one file's spawned service (200 schemas to load) took the
      // cores another file's 100 ms probe was timing (122.9 ms in a clean-clone CI run).
      { extends: true, test: { name: 'timed', include: TIMED, maxWorkers: 1, globalSetup: ['test/support/global-setup.ts'], sequence: { groupOrder: 2 } } },
      // The console in Debian's Chromium (playwright-core) against a real gateway and worker. It runs
      // first and alone (groupOrder 0), so the screenshots it writes for docs/ show its own data only.
      {
        extends: true,
        test: { name: 'browser', include: ['test/browser/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'], sequence: { groupOrder: 0 } },
      },
    ],
  },
});
