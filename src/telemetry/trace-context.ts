import { randomBytes } from 'node:crypto';

/** W3C Trace Context: version 00, 32-hex trace id, 16-hex parent span id, flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function isTraceparent(value: unknown): value is string {
  const match = typeof value === 'string' ? TRACEPARENT.exec(value) : null;
  return match !== null && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!);
}

/** The caller's trace continued with a new span, or a new trace when the caller sent none. */
export function childTraceparent(incoming: string | null | undefined): string {
  const traceId = isTraceparent(incoming) ? incoming.slice(3, 35) : randomBytes(16).toString('hex');
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}

export function traceIdOf(traceparent: string | null | undefined): string | null {
  return isTraceparent(traceparent) ? traceparent.slice(3, 35) : null;
}
