import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SAFE_INPUT_LIMITS, findUnsafeInput, type SafeInputLimits } from '../../src/core/safe-input.ts';
import { findUnsafeOperationInput, holdsUnsafeInput } from '../../src/schema/safe-input-plugin.ts';
import { mulberry32 } from '../../src/core/seeded-random.ts';

const LIMITS: SafeInputLimits = { maxDepth: 6, maxStringLength: 40 };

function nested(depth: number, inner: unknown = 1): unknown {
  let value = inner;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

/** Hazards findUnsafeInput refuses, and near misses it passes; each placed in values of several shapes. */
const HAZARDS: unknown[] = [
  'a\u0000b',
  'ok \uD83D',
  '\uDE00',
  'x'.repeat(41),
  'x'.repeat(40),
  'ok 😀 日本語',
  JSON.parse('{"__proto__": 1}'),
  { constructor: 1 },
  { prototype: { a: 1 } },
  { ['k\u0000']: 1 },
  { ['y'.repeat(41)]: 1 },
  { ['y'.repeat(40)]: 1 },
  { proto: 1, _constructor: 2 },
  new Date(0),
  null,
  [],
  {},
  nested(5),
  nested(6),
  nested(7),
  nested(5, 'a\u0000'),
  nested(6, 'a\u0000'),
];

function randomValue(random: () => number, depth: number): unknown {
  const pick = random();
  if (depth > 3 || pick < 0.3) return [1.5, 'text', true, null, 'émoji 😀'][Math.floor(random() * 5)];
  if (pick < 0.4) return HAZARDS[Math.floor(random() * HAZARDS.length)];
  const size = Math.floor(random() * 4);
  if (pick < 0.7) return Array.from({ length: size }, () => randomValue(random, depth + 1));
  return Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}`, randomValue(random, depth + 1)]));
}

describe('holdsUnsafeInput', () => {
  it.each(HAZARDS.map((hazard, i) => [i, hazard]))('agrees with findUnsafeInput on hazard #%i, alone and inside a list and an object', (_i, hazard) => {
    for (const value of [hazard, [1, hazard], { events: [{ host: 'h', extra: hazard }] }, nested(3, hazard)]) {
      expect(holdsUnsafeInput(value, LIMITS), JSON.stringify(value)).toBe(findUnsafeInput(value, 'events', LIMITS) !== undefined);
    }
  });

  it('agrees with findUnsafeInput on 3000 seeded random values, about a third of them unsafe', () => {
    const random = mulberry32(15);
    let unsafe = 0;
    for (let i = 0; i < 3000; i++) {
      const value = randomValue(random, 0);
      const expected = findUnsafeInput(value, 'events', LIMITS) !== undefined;
      expect(holdsUnsafeInput(value, LIMITS), JSON.stringify(value)).toBe(expected);
      if (expected) unsafe++;
    }
    expect(unsafe).toBeGreaterThan(300);
    expect(unsafe).toBeLessThan(2700);
  });
});

describe('findUnsafeOperationInput on a large list', () => {
  const publish = parse('mutation($s: ID!, $e: [JSON!]!) { publishEvents(streamId: $s, events: $e) { accepted } }');
  const events = () => Array.from({ length: 1000 }, (_, i) => ({ host: `h${i}`, latency_ms: i, at: '2026-01-01T00:00:00Z' }));

  it('passes 1000 ordinary events, and names the one bad event among them by its index', () => {
    expect(findUnsafeOperationInput(publish, undefined, { s: 'str_1', e: events() }, DEFAULT_SAFE_INPUT_LIMITS)).toBeUndefined();
    const bad = events();
    bad[998]!.host = 'h\u0000';
    expect(findUnsafeOperationInput(publish, undefined, { s: 'str_1', e: bad }, DEFAULT_SAFE_INPUT_LIMITS)).toEqual({
      field: 'events[998].host',
      problem: expect.stringContaining('NUL'),
    });
  });
});
