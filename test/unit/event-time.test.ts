import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/seeded-random.ts';
import { parseEventTime } from '../../src/stream/event-time.ts';
import { generatedTimestamp, mutatedTimestamp } from '../support/timestamp-strings.ts';

/** parseEventTime must answer exactly as Date.parse does: NaN where it gives NaN, the same milliseconds elsewhere. */
const same = (text: string) => expect(Object.is(parseEventTime(text), Date.parse(text)), `${JSON.stringify(text)}: Date.parse gives ${Date.parse(text)}, parseEventTime ${parseEventTime(text)}`).toBe(true);

describe('event time', () => {
  it('reads what Date.parse reads, on generated and mutated strings', () => {
    const random = mulberry32(20261207);
    let parsed = 0;
    for (let i = 0; i < 40_000; i++) {
      let text = generatedTimestamp(random);
      for (let m = Math.floor(random() * 3); m > 0; m--) text = mutatedTimestamp(text, random);
      same(text);
      if (!Number.isNaN(Date.parse(text))) parsed++;
    }
    expect(parsed).toBeGreaterThan(4_000);
  });

  it('reads what Date.parse reads from toISOString, with every fraction and zone', () => {
    const random = mulberry32(7);
    for (let i = 0; i < 20_000; i++) {
      const iso = new Date(Math.floor(random() * 8e12) - 1e12).toISOString();
      const zone = ['Z', '+00:00', '+05:30', '-11:59', '+23:59'][i % 5]!;
      same(iso);
      same(iso.slice(0, 19) + zone);
      same(iso.slice(0, 21) + zone);
      same(iso.slice(0, 22) + zone);
    }
  });

  it('leaves the edges to Date.parse and agrees with it there', () => {
    const cases = [
      '2026-02-30T00:00:00Z', '2024-02-29T12:00:00Z', '2026-11-01T24:00:00Z', '2026-11-01T00:00:60Z', '0050-11-01T00:00:00Z', '0100-01-01T00:00:00Z',
      '2026-11-01t00:00:00z', '2026-11-01T00:00:00+0100', '2026-11-01 00:00:00Z', '2026-11-01T00:00Z', '2026-11-01T00:00:00.1234Z',
      '2026-11-01T00:00:00.Z', '2026-11-01T00:00:00+24:00', '2026-11-01T00:00:00-00:60', '2026-11-01T00:00:00', '+002026-11-01T00:00:00Z', '',
    ];
    for (const text of cases) same(text);
    expect(parseEventTime('2026-11-01T08:30:00.25+02:00')).toBe(Date.UTC(2026, 10, 1, 6, 30, 0, 250));
  });
});
