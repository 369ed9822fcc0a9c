import type { Severity } from '../generated/prisma/enums.ts';

export const SEVERITIES: readonly Severity[] = ['INFO', 'WARNING', 'CRITICAL'];

/** Severities at or above `min`, for filters like minSeverity. */
export function severitiesAtLeast(min: Severity): Severity[] {
  return SEVERITIES.slice(SEVERITIES.indexOf(min));
}
