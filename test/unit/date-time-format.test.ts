import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { FormatDefinition } from 'ajv';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/seeded-random.ts';
import { generatedTimestamp as generated, mutatedTimestamp as mutated } from '../support/timestamp-strings.ts';
import { DATE_TIME_FORMAT, isDateTime } from '../../src/stream/date-time-format.ts';
import { compileValidator } from '../../src/stream/json-schema.ts';

const ajvFormats = (fullFormats['date-time'] as FormatDefinition<string>).validate as (text: string) => boolean;

describe('date-time format', () => {
  it('accepts and refuses what ajv-formats does, on generated and mutated strings', () => {
    const random = mulberry32(20261207);
    let accepted = 0;
    let checked = 0;
    for (let i = 0; i < 40_000; i++) {
      let text = generated(random);
      for (let m = Math.floor(random() * 3); m > 0; m--) text = mutated(text, random);
      const expected = ajvFormats(text);
      if (isDateTime(text) !== expected) expect.fail(`${JSON.stringify(text)}: ajv-formats says ${expected}`);
      if (expected) accepted++;
      checked++;
    }
    // Both answers must be well represented, or the comparison proves little.
    expect(accepted).toBeGreaterThan(checked / 10);
    expect(checked - accepted).toBeGreaterThan(checked / 10);
  });

  it('agrees on the edges: leap days, leap seconds with offsets, separators, zones', () => {
    const cases = [
      '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z',
      '2016-12-31T23:59:60Z', '2016-12-31T23:59:60.5Z', '2016-12-31T22:59:60-01:00', '2017-01-01T00:59:60+01:00',
      '2016-12-31T23:58:60Z', '2016-12-31T23:59:61Z', '2016-12-31T23:59:59.99999999999999999Z', '2016-12-31T23:59:60.99999999999999999Z',
      '2026-12-07t12:00:00z', '2026-12-07 12:00:00Z', '2026-12-07\u00a012:00:00Z', '2026-12-07T12:00:00', '2026-12-07T12:00:00+0530',
      '2026-12-07T12:00:00+05:3', '2026-12-07T12:00:00+05:', '2026-12-07T12:00:00+24:00', '2026-12-07T12:00:00.Z', '2026-12-07TT12:00:00Z',
      '2026-04-31T00:00:00Z', '2026-00-10T00:00:00Z', '2026-13-10T00:00:00Z', '2026-12-00T00:00:00Z', '2026-12-07T24:00:00Z', '',
    ];
    for (const text of cases) expect(isDateTime(text), JSON.stringify(text)).toBe(ajvFormats(text));
  });

  it('is what a contract with "format": "date-time" checks, and keeps ajv-formats comparison for formatMinimum', () => {
    const validate = compileValidator({ type: 'object', properties: { at: { type: 'string', format: 'date-time' } } });
    expect(validate({ at: '2026-12-07T12:00:00.000Z' }).ok).toBe(true);
    expect(validate({ at: '2026-02-30T12:00:00.000Z' }).ok).toBe(false);
    expect(DATE_TIME_FORMAT.compare?.('2026-12-07T12:00:00Z', '2026-12-07T13:00:00+02:00')).toBeGreaterThan(0);
  });
});
