/**
 * Seeded latency events for the pipeline benchmark. Its PRNG and stream
 * schema are the tests' too (test/support re-exports them): the bench does
 * not import from test/.
 */
import { mulberry32 } from '../src/core/seeded-random.ts';

export { mulberry32 };

/** The JSON Schema of the bench stream (the tests' latency schema). */
export const LATENCY_SCHEMA = {
  type: 'object',
  properties: {
    host: { type: 'string' },
    latency_ms: { type: 'number' },
    errors: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
  },
  required: ['host', 'latency_ms'],
} as const;

export interface BenchMessage {
  key: string;
  value: string;
}

/**
 * Latency per host: each host has its own baseline (40..200 ms) plus noise
 * (sd about 5 ms); one event in `outlierEvery` is a clear outlier (+200..300 ms,
 * 40 sd and more). Deterministic for a seed.
 */
export class LatencyEvents {
  private readonly random: () => number;
  private readonly baselines: number[];
  private produced = 0;
  outliers = 0;

  constructor(
    readonly hosts: number,
    private readonly outlierEvery: number,
    seed = 42,
    private readonly startTime = Date.parse('2026-11-01T00:00:00Z'),
  ) {
    this.random = mulberry32(seed);
    this.baselines = Array.from({ length: hosts }, (_, i) => 40 + ((i * 37) % 160));
  }

  static host(index: number): string {
    return `host-${index}`;
  }

  /** A normal value for a host: baseline plus roughly normal noise (sum of three uniforms). */
  normalValue(host: number): number {
    const noise = (this.random() + this.random() + this.random() - 1.5) * 10;
    return Math.round((this.baselines[host]! + noise) * 100) / 100;
  }

  message(host: number, latency: number, at: number): BenchMessage {
    const name = LatencyEvents.host(host);
    return { key: name, value: JSON.stringify({ host: name, latency_ms: latency, at: new Date(at).toISOString() }) };
  }

  /** The next `count` events of the seeded history (synthetic times 10 ms apart). */
  next(count: number): BenchMessage[] {
    const out: BenchMessage[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const n = this.produced++;
      const host = Math.floor(this.random() * this.hosts);
      const outlier = n > 0 && n % this.outlierEvery === 0;
      let latency = this.normalValue(host);
      if (outlier) {
        latency = Math.round((latency + 200 + this.random() * 100) * 100) / 100;
        this.outliers++;
      }
      out[i] = this.message(host, latency, this.startTime + n * 10);
    }
    return out;
  }
}
