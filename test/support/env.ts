/**
 * Where the tests find the real services. The test database is separate from
 * the development one, so `npm test` never touches data a developer cares about.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/vigil_test';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';
/**
 * VIGIL_WEBHOOK_ALLOW for tests: their webhook receivers (test/support/receiver.ts) listen on
 * 127.0.0.1, which the outbound guard refuses unless allowed. test/security/ narrows it to chosen ports.
 */
export const TEST_WEBHOOK_ALLOW = '127.0.0.1';

/** A name no other test (or earlier run) uses: tests share one database and one broker. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
