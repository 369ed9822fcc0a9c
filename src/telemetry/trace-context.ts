import { randomBytes } from 'node:crypto';

/** W3C Trace Context: version 00, 32-hex trace id, 16-hex parent span id, flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function isTraceparent(value: unknown): value is string {
  const match = typeof value === 'string' ? TRACEPARENT.exec(value) : null;
  return match !== null && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!);
}

/**
 * The caller's trace continued with a new span id, or a new trace when the
 * caller sent none. Real spans (src/telemetry/spans.ts) name themselves; this
 * is the fallback when no tracer provider is registered.
 */
export function childTraceparent(incoming: string | null | undefined): string {
  const traceId = isTraceparent(incoming) ? incoming.slice(3, 35) : randomBytes(16).toString('hex');
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}

export function traceIdOf(traceparent: string | null | undefined): string | null {
  return isTraceparent(traceparent) ? traceparent.slice(3, 35) : null;
}

/** The parts of a valid traceparent, for continuing it as a remote parent; null when absent or malformed. */
export function parseTraceparent(value: string | null | undefined): { traceId: string; spanId: string; traceFlags: number } | null {
  if (!isTraceparent(value)) return null;
  return { traceId: value.slice(3, 35), spanId: value.slice(36, 52), traceFlags: parseInt(value.slice(53, 55), 16) };
}

export function formatTraceparent(traceId: string, spanId: string, traceFlags: number): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
