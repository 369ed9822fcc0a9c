import { describe, expect, it } from 'vitest';
import { notHelpedBecause } from '../../src/workflows/runbook-verify.ts';

describe('why a remediation was not verified', () => {
  it('names new anomalies, SLAs still breached, or both', () => {
    expect(notHelpedBecause(1, [])).toBe('1 new anomaly since it finished');
    expect(notHelpedBecause(3, [])).toBe('3 new anomalies since it finished');
    expect(notHelpedBecause(0, ['p99 latency'])).toBe("SLA 'p99 latency' still breached");
    expect(notHelpedBecause(2, ['a', 'b'])).toBe("2 new anomalies since it finished and SLAs 'a', 'b' still breached");
  });
});
