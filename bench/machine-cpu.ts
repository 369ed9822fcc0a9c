import { readFileSync } from 'node:fs';
import { ticksPerSecond } from './kit.ts';

export interface MachineCpu {
  /** CPU time every core spent busy (user, nice, system, irq, softirq), in µs. */
  busy: number;
  /** Time the virtual CPUs were ready to run but their host ran something else, in µs. */
  steal: number;
}

/**
 * The whole machine's CPU so far, from /proc/stat (Linux): what the broker,
 * PostgreSQL and Redis spend beside a worker shows as busy time outside the
 * worker's process tree.
 */
export function machineCpu(): MachineCpu {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice", in clock ticks.
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields as number[];
  const micros = 1e6 / ticksPerSecond();
  return { busy: (user! + nice! + system! + irq! + softirq!) * micros, steal: (steal ?? 0) * micros };
}
