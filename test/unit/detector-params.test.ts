import { describe, expect, it } from 'vitest';
import { DETECTOR_PARAM_SPECS, normalizeDetectorParams } from '../../src/detectors/params.ts';
import type { DetectorKind } from '../../src/generated/prisma/enums.ts';
import { badInput } from '../support/bad-input.ts';


/** The field and code of the error normalising `params` raises. */
function failure(kind: DetectorKind, params: unknown, field?: string): { field: string | undefined; code: string; message: string } {
  const error = badInput(() => normalizeDetectorParams(kind, params, field));
  return { field: error.field, code: error.code, message: error.message };
}

describe('normalizeDetectorParams: defaults', () => {
  it('fills every ZSCORE setting, in stored order', () => {
    const params = normalizeDetectorParams('ZSCORE', {});
    expect(params).toEqual({ window: 300, threshold: 4, warmup: 30, direction: 'BOTH' });
    expect(Object.keys(params)).toEqual(['window', 'threshold', 'warmup', 'direction']);
  });

  it('fills MAD, EWMA and SEASONAL defaults', () => {
    expect(normalizeDetectorParams('MAD', {})).toEqual({ window: 300, threshold: 5, warmup: 30, direction: 'BOTH' });
    expect(normalizeDetectorParams('EWMA', {})).toEqual({ alpha: 0.05, threshold: 4, warmup: 30, direction: 'BOTH' });
    expect(normalizeDetectorParams('SEASONAL', {})).toEqual({
      period: 24,
      alpha: 0.2,
      beta: 0.01,
      gamma: 0.1,
      threshold: 4,
      warmup: 48,
      direction: 'BOTH',
    });
  });

  it('derives the SEASONAL warmup from the period unless given', () => {
    expect(normalizeDetectorParams('SEASONAL', { period: 7 }).warmup).toBe(14);
    expect(normalizeDetectorParams('SEASONAL', { period: 7, warmup: 7 }).warmup).toBe(7);
  });

  it('keeps given values and takes undefined params as {}', () => {
    expect(normalizeDetectorParams('ZSCORE', { window: 60, threshold: 3.5, warmup: 10, direction: 'UP' })).toEqual({
      window: 60,
      threshold: 3.5,
      warmup: 10,
      direction: 'UP',
    });
    expect(normalizeDetectorParams('EWMA', undefined)).toEqual(normalizeDetectorParams('EWMA', {}));
    expect(normalizeDetectorParams('EWMA', { alpha: 1 }).alpha).toBe(1);
    expect(normalizeDetectorParams('SEASONAL', { beta: 0, gamma: 0 })).toMatchObject({ beta: 0, gamma: 0 });
  });

  it('states unbounded THRESHOLD sides as null', () => {
    expect(normalizeDetectorParams('THRESHOLD', { max: 500 })).toEqual({ min: null, max: 500 });
    expect(normalizeDetectorParams('THRESHOLD', { min: -1, max: 1 })).toEqual({ min: -1, max: 1 });
    expect(normalizeDetectorParams('THRESHOLD', { min: 0, max: null })).toEqual({ min: 0, max: null });
  });

  it('accepts FRESHNESS up to 30 days', () => {
    expect(normalizeDetectorParams('FRESHNESS', { maxGapSeconds: 90 })).toEqual({ maxGapSeconds: 90 });
    expect(normalizeDetectorParams('FRESHNESS', { maxGapSeconds: 2_592_000 })).toEqual({ maxGapSeconds: 2_592_000 });
  });

  it('normalises ENSEMBLE members recursively and derives its warmup', () => {
    const params = normalizeDetectorParams('ENSEMBLE', {
      members: [{ kind: 'ZSCORE' }, { kind: 'SEASONAL', params: { period: 12 }, weight: 2 }, { kind: 'THRESHOLD', params: { max: 9 } }],
    });
    expect(params).toEqual({
      members: [
        { kind: 'ZSCORE', params: { window: 300, threshold: 4, warmup: 30, direction: 'BOTH' }, weight: 1 },
        {
          kind: 'SEASONAL',
          params: { period: 12, alpha: 0.2, beta: 0.01, gamma: 0.1, threshold: 4, warmup: 24, direction: 'BOTH' },
          weight: 2,
        },
        { kind: 'THRESHOLD', params: { min: null, max: 9 }, weight: 1 },
      ],
      combine: 'WEIGHTED',
      threshold: 0.5,
      warmup: 30,
    });
    expect(normalizeDetectorParams('ENSEMBLE', { members: [{ kind: 'THRESHOLD', params: { min: 0 } }] }).warmup).toBe(0);
    expect(normalizeDetectorParams('ENSEMBLE', { members: [{ kind: 'MAD' }], combine: 'VOTE', threshold: 1, warmup: 5 })).toMatchObject({
      combine: 'VOTE',
      threshold: 1,
      warmup: 5,
    });
  });

  it('is idempotent: normalising stored params changes nothing', () => {
    const samples: [DetectorKind, unknown][] = [
      ['ZSCORE', {}],
      ['MAD', { window: 50 }],
      ['EWMA', { alpha: 0.5 }],
      ['SEASONAL', { period: 100 }],
      ['THRESHOLD', { max: 3 }],
      ['FRESHNESS', { maxGapSeconds: 60 }],
      ['ENSEMBLE', { members: [{ kind: 'SEASONAL' }, { kind: 'THRESHOLD', params: { min: 1 } }] }],
    ];
    for (const [kind, raw] of samples) {
      const once = normalizeDetectorParams(kind, raw);
      expect(normalizeDetectorParams(kind, structuredClone(once))).toEqual(once);
    }
  });
});

describe('normalizeDetectorParams: bad input', () => {
  it('refuses params that are not a JSON object', () => {
    for (const params of [null, [], 'window=5', 5]) {
      expect(failure('ZSCORE', params)).toMatchObject({ field: 'input.params', code: 'BAD_USER_INPUT' });
    }
  });

  it('refuses unknown keys, suggesting the likely one and listing the accepted ones', () => {
    const error = failure('ZSCORE', { windw: 100 });
    expect(error).toMatchObject({ field: 'input.params.windw', code: 'BAD_USER_INPUT' });
    expect(error.message).toContain('did you mean "window"?');
    expect(error.message).toContain('window, threshold, warmup, direction');
    expect(failure('THRESHOLD', { max: 1, warmup: 5 }).field).toBe('input.params.warmup');
    expect(failure('ZSCORE', { 'odd key': 1 }).field).toBe('input.params["odd key"]');
  });

  it.each([
    ['a fractional window', 'ZSCORE', { window: 2.5 }, 'input.params.window'],
    ['a too small window', 'MAD', { window: 4 }, 'input.params.window'],
    ['a too large window', 'ZSCORE', { window: 100_001 }, 'input.params.window'],
    ['a string number', 'ZSCORE', { window: '300' }, 'input.params.window'],
    ['a zero threshold', 'ZSCORE', { threshold: 0 }, 'input.params.threshold'],
    ['a null threshold', 'MAD', { threshold: null }, 'input.params.threshold'],
    ['an infinite threshold', 'EWMA', { threshold: Number.POSITIVE_INFINITY }, 'input.params.threshold'],
    ['a zero warmup', 'ZSCORE', { warmup: 0 }, 'input.params.warmup'],
    ['a warmup over 10000', 'EWMA', { warmup: 10_001 }, 'input.params.warmup'],
    ['a lower-case direction', 'ZSCORE', { direction: 'up' }, 'input.params.direction'],
    ['a zero alpha', 'EWMA', { alpha: 0 }, 'input.params.alpha'],
    ['an alpha over 1', 'EWMA', { alpha: 1.5 }, 'input.params.alpha'],
    ['a period of 1', 'SEASONAL', { period: 1 }, 'input.params.period'],
    ['a negative beta', 'SEASONAL', { beta: -0.1 }, 'input.params.beta'],
    ['a gamma over 1', 'SEASONAL', { gamma: 2 }, 'input.params.gamma'],
    ['a warmup shorter than the period', 'SEASONAL', { period: 24, warmup: 23 }, 'input.params.warmup'],
    ['a string bound', 'THRESHOLD', { max: '5' }, 'input.params.max'],
    ['min not below max', 'THRESHOLD', { min: 5, max: 5 }, 'input.params.min'],
    ['a zero gap', 'FRESHNESS', { maxGapSeconds: 0 }, 'input.params.maxGapSeconds'],
    ['a gap over 30 days', 'FRESHNESS', { maxGapSeconds: 2_592_001 }, 'input.params.maxGapSeconds'],
  ] as const)('refuses %s', (_, kind, params, field) => {
    const error = failure(kind, params);
    expect(error).toMatchObject({ field, code: 'BAD_USER_INPUT' });
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it('says what is accepted in range errors', () => {
    expect(failure('ZSCORE', { window: 2.5 }).message).toBe('input.params.window: must be an integer from 5 to 100000 (got 2.5)');
    expect(failure('EWMA', { alpha: 0 }).message).toBe('input.params.alpha: must be a number greater than 0 and at most 1 (got 0)');
    expect(failure('SEASONAL', { period: 24, warmup: 23 }).message).toMatch(/from period \(24\)/);
  });

  it('requires a THRESHOLD bound and a FRESHNESS gap', () => {
    expect(failure('THRESHOLD', {})).toMatchObject({ field: 'input.params', code: 'BAD_USER_INPUT' });
    expect(failure('THRESHOLD', { min: null, max: null }).field).toBe('input.params');
    expect(failure('FRESHNESS', {})).toMatchObject({ field: 'input.params.maxGapSeconds', code: 'BAD_USER_INPUT' });
  });

  it('uses the given field prefix', () => {
    expect(failure('ZSCORE', { window: 1 }, 'params').field).toBe('params.window');
  });
});

describe('normalizeDetectorParams: ENSEMBLE members', () => {
  it('requires 1 to 10 members', () => {
    expect(failure('ENSEMBLE', {})).toMatchObject({ field: 'input.params.members', code: 'BAD_USER_INPUT' });
    expect(failure('ENSEMBLE', { members: [] }).field).toBe('input.params.members');
    expect(failure('ENSEMBLE', { members: { kind: 'ZSCORE' } }).field).toBe('input.params.members');
    const eleven = Array.from({ length: 11 }, () => ({ kind: 'ZSCORE' }));
    expect(failure('ENSEMBLE', { members: eleven }).field).toBe('input.params.members');
  });

  it('names the nested path of a bad member setting', () => {
    const error = failure('ENSEMBLE', { members: [{ kind: 'ZSCORE' }, { kind: 'MAD', params: { window: 3 } }] });
    expect(error).toMatchObject({ field: 'input.params.members[1].params.window', code: 'BAD_USER_INPUT' });
    expect(failure('ENSEMBLE', { members: [{ kind: 'MAD', params: { windw: 3 } }] }).field).toBe('input.params.members[0].params.windw');
    expect(failure('ENSEMBLE', { members: [{ kind: 'THRESHOLD' }] }).field).toBe('input.params.members[0].params');
  });

  it('refuses FRESHNESS, ENSEMBLE, unknown and missing member kinds', () => {
    for (const kind of ['FRESHNESS', 'ENSEMBLE', 'zscore', 42]) {
      const error = failure('ENSEMBLE', { members: [{ kind: 'MAD' }, { kind }] });
      expect(error).toMatchObject({ field: 'input.params.members[1].kind', code: 'BAD_USER_INPUT' });
      expect(error.message).toContain('ZSCORE, MAD, EWMA, SEASONAL, THRESHOLD');
    }
    expect(failure('ENSEMBLE', { members: [{ params: {} }] }).field).toBe('input.params.members[0].kind');
  });

  it('refuses bad weights, member shapes and ensemble settings', () => {
    expect(failure('ENSEMBLE', { members: [{ kind: 'MAD', weight: 0 }] }).field).toBe('input.params.members[0].weight');
    expect(failure('ENSEMBLE', { members: [{ kind: 'MAD', wieght: 2 }] }).field).toBe('input.params.members[0].wieght');
    expect(failure('ENSEMBLE', { members: ['MAD'] }).field).toBe('input.params.members[0]');
    expect(failure('ENSEMBLE', { members: [{ kind: 'MAD', params: [] }] }).field).toBe('input.params.members[0].params');
    expect(failure('ENSEMBLE', { members: [{ kind: 'MAD' }], combine: 'MAJORITY' }).field).toBe('input.params.combine');
    expect(failure('ENSEMBLE', { members: [{ kind: 'MAD' }], threshold: 1.5 }).field).toBe('input.params.threshold');
    expect(failure('ENSEMBLE', { members: [{ kind: 'MAD' }], warmup: -1 }).field).toBe('input.params.warmup');
  });
});

describe('DETECTOR_PARAM_SPECS', () => {
  it('describes every setting of every kind', () => {
    for (const [kind, specs] of Object.entries(DETECTOR_PARAM_SPECS)) {
      expect(Object.keys(specs).length, kind).toBeGreaterThan(0);
      for (const [key, spec] of Object.entries(specs)) {
        expect(spec.description.length, `${kind}.${key}`).toBeGreaterThan(10);
      }
    }
  });

  it('has defaults that pass its own checks', () => {
    for (const [kind, specs] of Object.entries(DETECTOR_PARAM_SPECS)) {
      const defaults = Object.fromEntries(
        Object.entries(specs).filter(([, spec]) => spec.default !== undefined).map(([key, spec]) => [key, spec.default]),
      );
      if (kind === 'THRESHOLD') defaults.max = 1;
      if (kind === 'FRESHNESS') defaults.maxGapSeconds = 1;
      if (kind === 'ENSEMBLE') defaults.members = [{ kind: 'ZSCORE' }];
      expect(() => normalizeDetectorParams(kind as DetectorKind, defaults), kind).not.toThrow();
    }
  });
});
