import { describe, expect, it } from 'vitest';
import { burningOrder } from '../../console/src/incident-order.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 11, 7, 10, minute)).toISOString();

describe("the overview's order of unresolved incidents", () => {
  it('puts the most severe first, then the unacknowledged, then the newest', () => {
    const incidents = [
      { id: 'info-new', severity: 'INFO', status: 'OPEN', openedAt: at(50) },
      { id: 'warning-acked-new', severity: 'WARNING', status: 'ACKNOWLEDGED', openedAt: at(40) },
      { id: 'warning-open-old', severity: 'WARNING', status: 'OPEN', openedAt: at(1) },
      { id: 'critical-acked', severity: 'CRITICAL', status: 'ACKNOWLEDGED', openedAt: at(5) },
      { id: 'warning-open-new', severity: 'WARNING', status: 'OPEN', openedAt: at(30) },
      { id: 'critical-open', severity: 'CRITICAL', status: 'OPEN', openedAt: at(2) },
    ] as const;
    expect([...incidents].sort(burningOrder).map((i) => i.id)).toEqual([
      'critical-open',
      'critical-acked',
      'warning-open-new',
      'warning-open-old',
      'warning-acked-new',
      'info-new',
    ]);
  });
});
