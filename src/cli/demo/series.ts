/**
 * The demo's data: checkout latency of three web hosts, one reading per host
 * every 5 s, shaped like a real service: a daily curve (busier afternoons),
 * a batch job every 10 minutes that slows requests for a minute, and noise.
 * Deterministic for a seed, so the demo (and its test) always sees the same
 * anomalies. Pure: no clock, no I/O.
 */

export const DEMO_HOSTS = ['web-1', 'web-2', 'web-3'] as const;
export const STEP_MS = 5_000;

export interface DemoEvent {
  host: string;
  latency_ms: number;
  at: string;
}

/** An injected fault: `host` is `extraMs` slower for `points` readings from `at`. */
export interface Injection {
  host: string;
  at: number;
  points: number;
  extraMs: number;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const DAY_MS = 86_400_000;
const BATCH_PERIOD_MS = 10 * 60_000;
const BATCH_MS = 2 * 60_000;

/** The normal latency of a host at a time, before noise. */
export function baselineMs(hostIndex: number, time: number): number {
  const hourOfDay = (time % DAY_MS) / 3_600_000;
  const daily = 25 * Math.sin(((hourOfDay - 9) / 24) * 2 * Math.PI); // peaks mid-afternoon UTC
  // The batch job's load rises and falls over two minutes: a step change would itself be an anomaly.
  const intoBatch = time % BATCH_PERIOD_MS;
  const batch = intoBatch < BATCH_MS ? 10 * Math.sin((Math.PI * intoBatch) / BATCH_MS) : 0;
  return 110 + hostIndex * 8 + daily + batch;
}

/** The readings of every host at each 5 s step in [from, to), with the injections applied. */
export function demoEvents(from: number, to: number, injections: readonly Injection[], random: () => number): DemoEvent[] {
  const events: DemoEvent[] = [];
  const start = Math.ceil(from / STEP_MS) * STEP_MS;
  for (let time = start; time < to; time += STEP_MS) {
    DEMO_HOSTS.forEach((host, index) => {
      let latency = baselineMs(index, time) + 5 * gaussian(random);
      for (const fault of injections) {
        if (fault.host === host && time >= fault.at && time < fault.at + fault.points * STEP_MS) latency += fault.extraMs;
      }
      events.push({ host, latency_ms: Math.round(Math.max(1, latency) * 10) / 10, at: new Date(time).toISOString() });
    });
  }
  return events;
}

/**
 * The hour of history's faults, in its last quarter and a minute apart, so
 * they form one incident (the default correlation window is 5 minutes):
 * web-2 slows down by 180 ms for 30 s, then web-1 by 120 ms, then web-3 by 140 ms.
 */
export function historyInjections(end: number): Injection[] {
  const at = (minutesBeforeEnd: number) => Math.floor((end - minutesBeforeEnd * 60_000) / STEP_MS) * STEP_MS;
  return [
    { host: 'web-2', at: at(9), points: 6, extraMs: 180 },
    { host: 'web-1', at: at(8), points: 5, extraMs: 120 },
    { host: 'web-3', at: at(7), points: 4, extraMs: 140 },
  ];
}

/** A live fault for --keep-running: one host (in turn) slows down for 30 s. */
export function liveInjection(at: number, round: number): Injection {
  return { host: DEMO_HOSTS[round % DEMO_HOSTS.length]!, at: Math.floor(at / STEP_MS) * STEP_MS, points: 6, extraMs: 150 + 20 * (round % 3) };
}

/** The LIKELIHOOD settings of the demo's detector: its novelty check widened past this series' noise (see test/unit/demo-series.test.ts). */
export const DEMO_DETECTOR_PARAMS = { novelty: 0.3 };
