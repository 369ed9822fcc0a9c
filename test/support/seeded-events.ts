import { mulberry32 } from '../../bench/events.ts';

// One PRNG for the tests and the pipeline bench (the bench does not import from test/).
export { mulberry32 };

/** `n` standard normal values (Box-Muller over mulberry32): deterministic noise for detector tests. */
export function normals(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out.push(r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v));
  }
  return out.slice(0, n);
}

export interface SeededEvent {
  key: string;
  value: { host: string; latency_ms: number; at: string };
  outlier: boolean;
}

/**
 * Latency for a few hosts: a daily-ish wave plus noise, with a clear outlier
 * every `outlierEvery` events. Fixed by the seed, so two topics fed from it
 * hold the same events at the same offsets.
 */
export function seededLatencyEvents(count: number, seed = 42, outlierEvery = 400, hostCount = 5): SeededEvent[] {
  const random = mulberry32(seed);
  const hosts = Array.from({ length: hostCount }, (_, i) => `host-${i + 1}`);
  const start = Date.parse('2026-11-01T00:00:00Z');
  return Array.from({ length: count }, (_, i) => {
    const host = hosts[i % hosts.length]!;
    const outlier = i > 0 && i % outlierEvery === 0;
    const base = 100 + 20 * Math.sin((2 * Math.PI * i) / 500) + (random() - 0.5) * 10;
    const latency = outlier ? base + 150 + random() * 50 : base;
    return { key: host, value: { host, latency_ms: Math.round(latency * 100) / 100, at: new Date(start + i * 1000).toISOString() }, outlier };
  });
}
