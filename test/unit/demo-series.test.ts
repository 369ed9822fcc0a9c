import { describe, expect, it } from 'vitest';
import { createDetector } from '../../src/detectors/detector.ts';
import { normalizeDetectorParams } from '../../src/detectors/params.ts';
import { DEMO_DETECTOR_PARAMS, DEMO_HOSTS, demoEvents, historyInjections } from '../../src/cli/demo/series.ts';
import { mulberry32 } from '../../src/core/seeded-random.ts';

/** What the demo's LIKELIHOOD detector flags in an hour of its history: host and minutes before the end. */
function flagged(end: number, seed: number, params: Record<string, unknown>): string[] {
  const events = demoEvents(end - 3_600_000, end, historyInjections(end), mulberry32(seed));
  const model = createDetector('LIKELIHOOD', normalizeDetectorParams('LIKELIHOOD', params, 'params') as Record<string, unknown>, 'latency_ms');
  const states = new Map<string, ReturnType<typeof model.newState>>(DEMO_HOSTS.map((host) => [host, model.newState()]));
  const hits: string[] = [];
  for (const event of events) {
    if (model.observe(states.get(event.host)!, event.latency_ms, Date.parse(event.at)).anomalous) {
      hits.push(`${event.host}@${Math.round((end - Date.parse(event.at)) / 60_000)}`);
    }
  }
  return hits;
}

describe('the demo series', () => {
  const ends = ['2025-03-01T15:00:00Z', '2025-03-01T03:20:00Z', '2025-06-11T07:12:34Z'].map(Date.parse);

  it('the demo detector flags each injected slowdown once and nothing else, at any time of day and seed', () => {
    for (const end of ends) {
      for (const seed of [1, 7, 20240501]) expect(flagged(end, seed, DEMO_DETECTOR_PARAMS), `${new Date(end).toISOString()} seed ${seed}`).toEqual(['web-2@9', 'web-1@8', 'web-3@7']);
    }
  });

  it('negative control: with LIKELIHOOD defaults the series has false alarms, so the params above matter', () => {
    expect(ends.some((end) => flagged(end, 1, {}).length > 3)).toBe(true);
  });

  it('is the same for the same seed, a reading per host every 5 s', () => {
    const end = ends[0]!;
    const a = demoEvents(end - 60_000, end, [], mulberry32(3));
    expect(a).toEqual(demoEvents(end - 60_000, end, [], mulberry32(3)));
    expect(a).toHaveLength(12 * DEMO_HOSTS.length);
  });
});
