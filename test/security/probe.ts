import { expect } from 'vitest';
import type { Harness } from '../support/harness.ts';

/**
 * After every hostile probe the service must still answer at once: one
 * GET /healthz, timed from here, within 100 ms (the bar for
 * "the event loop was not blocked by the probe").
 */
export async function expectStillResponsive(h: Harness): Promise<void> {
  const started = performance.now();
  const response = await fetch(new URL('/healthz', h.url));
  const elapsed = performance.now() - started;
  expect(response.status).toBe(200);
  expect(elapsed).toBeLessThan(100);
}

/** A raw POST to /graphql, so a probe can send what graphql-request would not. */
export function post(h: Harness, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

export function bearer(secret: string): Record<string, string> {
  return { authorization: `Bearer ${secret}` };
}

export type ErrorBody = { errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown; extensions?: unknown };
