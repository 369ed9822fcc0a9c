import type { Anomaly } from '../generated/prisma/client.ts';

/** An anomaly as it travels through Redis to the gateways: JSON, with the offset as a decimal string. */
export function serializeAnomaly(anomaly: Anomaly): Record<string, unknown> {
  return { ...anomaly, offset: anomaly.offset.toString() };
}
