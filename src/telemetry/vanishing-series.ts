import type { Attributes, ObservableResult } from '@opentelemetry/api';

/**
 * OpenTelemetry's observable gauges (sdk-metrics 2.x, cumulative) go on
 * exporting a series at its last value once a callback stops observing it.
 * For a reading that can move elsewhere (a partition another worker now owns)
 * that is a stale figure for ever, and a lag alert that never clears. This
 * observes 0 once for each series observed in the last collection and not in
 * this one: "not here any more", which sums right across processes.
 */
export class VanishingSeries {
  private last = new Map<string, Attributes>();
  private seen = new Map<string, Attributes>();

  observe(result: ObservableResult, value: number, key: string, attributes: Attributes): void {
    this.seen.set(key, attributes);
    result.observe(value, attributes);
  }

  /**
   * Ends a collection. `complete`: every source answered; when one did not, its series were
   * not observed for want of an answer, not because they moved, so none is zeroed this time.
   */
  settle(result: ObservableResult, complete: boolean): void {
    if (complete) {
      for (const [key, attributes] of this.last) if (!this.seen.has(key)) result.observe(0, attributes);
      this.last = this.seen;
    } else {
      for (const [key, attributes] of this.seen) this.last.set(key, attributes);
    }
    this.seen = new Map();
  }
}
