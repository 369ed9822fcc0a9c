import type { IncidentSummary, Severity } from './types.ts';

const RANK: Record<Severity, number> = { CRITICAL: 0, WARNING: 1, INFO: 2 };

type Ordered = Pick<IncidentSummary, 'severity' | 'status' | 'openedAt'>;

/** What an on-call person looks at first: the most severe; at one severity, what nobody has acknowledged; then the newest. */
export function burningOrder(a: Ordered, b: Ordered): number {
  return (
    RANK[a.severity] - RANK[b.severity] ||
    Number(a.status !== 'OPEN') - Number(b.status !== 'OPEN') ||
    Date.parse(b.openedAt) - Date.parse(a.openedAt)
  );
}
