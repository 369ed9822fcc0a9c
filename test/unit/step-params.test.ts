import { describe, expect, it } from 'vitest';
import type { RunbookAction } from '../../src/generated/prisma/enums.ts';
import { normalizeStepParams, STEP_PARAM_SPECS } from '../../src/services/step-params.ts';
import { badInput } from '../support/bad-input.ts';

const FIELD = 'input.steps[0].params';


function failure(action: RunbookAction, params: unknown): { field: string | undefined; code: string; message: string } {
  const error = badInput(() => normalizeStepParams(action, params, FIELD));
  return { field: error.field, code: error.code, message: error.message };
}

describe('normalizeStepParams: valid params and defaults', () => {
  it('fills WEBHOOK defaults and keeps optional settings only when given', () => {
    expect(normalizeStepParams('WEBHOOK', { url: 'https://hooks.example.com/vigil' }, FIELD)).toEqual({
      url: 'https://hooks.example.com/vigil',
      timeoutMs: 5000,
      maxAttempts: 5,
    });
    expect(
      normalizeStepParams(
        'WEBHOOK',
        { url: 'http://10.0.0.1:8080/x?y=1', timeoutMs: 100, secret: 's3cret', headers: { 'X-Team': 'sre' }, maxAttempts: 20, verifyWithinSeconds: 300 },
        FIELD,
      ),
    ).toEqual({
      url: 'http://10.0.0.1:8080/x?y=1',
      timeoutMs: 100,
      secret: 's3cret',
      headers: { 'X-Team': 'sre' },
      maxAttempts: 20,
      verifyWithinSeconds: 300,
    });
  });

  it('stores a REPLAY start in UTC', () => {
    expect(normalizeStepParams('REPLAY', { fromTimestamp: '2024-05-01T14:00:00+02:00', streamId: 'str_1' }, FIELD)).toEqual({
      fromTimestamp: '2024-05-01T12:00:00.000Z',
      streamId: 'str_1',
      maxAttempts: 3,
    });
    expect(normalizeStepParams('REPLAY', {}, FIELD)).toEqual({ maxAttempts: 3 });
    expect(normalizeStepParams('REPLAY', { fromTimestamp: '2024-02-29T23:59:59.5Z' }, FIELD).fromTimestamp).toBe(
      '2024-02-29T23:59:59.500Z',
    );
  });

  it('fills defaults for the other actions, taking undefined params as {}', () => {
    expect(normalizeStepParams('PAUSE_STREAM', undefined, FIELD)).toEqual({ maxAttempts: 3 });
    expect(normalizeStepParams('RESUME_STREAM', { streamId: 'str_2' }, FIELD)).toEqual({ streamId: 'str_2', maxAttempts: 3 });
    expect(normalizeStepParams('SCALE', { target: 'deploy/ingest', replicas: 0 }, FIELD)).toEqual({
      target: 'deploy/ingest',
      replicas: 0,
      maxAttempts: 3,
    });
    expect(normalizeStepParams('NOTIFY', {}, FIELD)).toEqual({ maxAttempts: 3 });
    expect(normalizeStepParams('NOTIFY', { message: 'x'.repeat(2000) }, FIELD).message).toHaveLength(2000);
  });

  it('is idempotent', () => {
    const once = normalizeStepParams('WEBHOOK', { url: 'https://a.example', headers: { A: 'b' } }, FIELD);
    expect(normalizeStepParams('WEBHOOK', structuredClone(once), FIELD)).toEqual(once);
    const replay = normalizeStepParams('REPLAY', { fromTimestamp: '2024-05-01T12:00:00Z' }, FIELD);
    expect(normalizeStepParams('REPLAY', replay, FIELD)).toEqual(replay);
  });
});

describe('normalizeStepParams: bad input', () => {
  it('refuses params that are not a JSON object', () => {
    for (const params of [null, [], 'url', 1]) {
      expect(failure('NOTIFY', params)).toMatchObject({ field: FIELD, code: 'BAD_USER_INPUT' });
    }
  });

  it('refuses unknown keys, listing the accepted ones', () => {
    const error = failure('WEBHOOK', { url: 'https://a.example', timeout: 5 });
    expect(error).toMatchObject({ field: `${FIELD}.timeout`, code: 'BAD_USER_INPUT' });
    expect(error.message).toContain('did you mean "timeoutMs"?');
    expect(error.message).toContain('url, timeoutMs, secret, headers, maxAttempts, verifyWithinSeconds');
    expect(failure('PAUSE_STREAM', { replicas: 2 }).field).toBe(`${FIELD}.replicas`);
  });

  it.each([
    ['a missing url', 'WEBHOOK', {}, 'url'],
    ['a relative url', 'WEBHOOK', { url: '/hooks/vigil' }, 'url'],
    ['an ftp url', 'WEBHOOK', { url: 'ftp://files.example.com/x' }, 'url'],
    ['a non-string url', 'WEBHOOK', { url: 42 }, 'url'],
    ['a short timeout', 'WEBHOOK', { url: 'https://a.example', timeoutMs: 99 }, 'timeoutMs'],
    ['a fractional timeout', 'WEBHOOK', { url: 'https://a.example', timeoutMs: 1000.5 }, 'timeoutMs'],
    ['an empty secret', 'WEBHOOK', { url: 'https://a.example', secret: '' }, 'secret'],
    ['headers that are a list', 'WEBHOOK', { url: 'https://a.example', headers: ['A: b'] }, 'headers'],
    ['too many WEBHOOK attempts', 'WEBHOOK', { url: 'https://a.example', maxAttempts: 21 }, 'maxAttempts'],
    ['a zoneless timestamp', 'REPLAY', { fromTimestamp: '2024-05-01T12:00:00' }, 'fromTimestamp'],
    ['a date-only timestamp', 'REPLAY', { fromTimestamp: '2024-05-01' }, 'fromTimestamp'],
    ['an impossible date', 'REPLAY', { fromTimestamp: '2024-02-30T00:00:00Z' }, 'fromTimestamp'],
    ['an impossible hour', 'REPLAY', { fromTimestamp: '2024-01-01T24:00:00Z' }, 'fromTimestamp'],
    ['an epoch timestamp', 'REPLAY', { fromTimestamp: 1714564800000 }, 'fromTimestamp'],
    ['an empty stream id', 'REPLAY', { streamId: '' }, 'streamId'],
    ['a numeric stream id', 'PAUSE_STREAM', { streamId: 7 }, 'streamId'],
    ['zero attempts', 'RESUME_STREAM', { maxAttempts: 0 }, 'maxAttempts'],
    ['a missing scale target', 'SCALE', { replicas: 2 }, 'target'],
    ['an empty scale target', 'SCALE', { target: '', replicas: 2 }, 'target'],
    ['missing replicas', 'SCALE', { target: 'ingest' }, 'replicas'],
    ['too many replicas', 'SCALE', { target: 'ingest', replicas: 1001 }, 'replicas'],
    ['fractional replicas', 'SCALE', { target: 'ingest', replicas: 1.5 }, 'replicas'],
    ['negative replicas', 'SCALE', { target: 'ingest', replicas: -1 }, 'replicas'],
    ['a too long message', 'NOTIFY', { message: 'x'.repeat(2001) }, 'message'],
    ['a non-string message', 'NOTIFY', { message: { text: 'hi' } }, 'message'],
    ['a zero verification window', 'NOTIFY', { verifyWithinSeconds: 0 }, 'verifyWithinSeconds'],
  ] as const)('refuses %s', (_, action, params, key) => {
    const error = failure(action, params);
    expect(error).toMatchObject({ field: `${FIELD}.${key}`, code: 'BAD_USER_INPUT' });
    expect(error.message.startsWith(`${FIELD}.${key}: `)).toBe(true);
  });

  it('names the offending header', () => {
    expect(failure('WEBHOOK', { url: 'https://a.example', headers: { 'Bad Name': 'x' } }).field).toBe(`${FIELD}.headers["Bad Name"]`);
    expect(failure('WEBHOOK', { url: 'https://a.example', headers: { 'X-A': 1 } }).field).toBe(`${FIELD}.headers["X-A"]`);
    expect(failure('WEBHOOK', { url: 'https://a.example', headers: { Auth: 'a\r\nX-Evil: 1' } }).field).toBe(`${FIELD}.headers.Auth`);
  });

  it('says what is accepted', () => {
    expect(failure('SCALE', { target: 'ingest', replicas: 1001 }).message).toBe(
      `${FIELD}.replicas: must be an integer from 0 to 1000 (got 1001)`,
    );
    expect(failure('REPLAY', { fromTimestamp: 'yesterday' }).message).toContain('ISO-8601 date-time with a time zone');
  });
});

describe('STEP_PARAM_SPECS', () => {
  it('covers every action, each with maxAttempts and a description per setting', () => {
    expect(Object.keys(STEP_PARAM_SPECS).sort()).toEqual(['NOTIFY', 'PAUSE_STREAM', 'REPLAY', 'RESUME_STREAM', 'SCALE', 'WEBHOOK']);
    for (const [action, specs] of Object.entries(STEP_PARAM_SPECS)) {
      expect(specs.maxAttempts?.default, action).toBe(action === 'WEBHOOK' ? 5 : 3);
      for (const [key, spec] of Object.entries(specs)) expect(spec.description.length, `${action}.${key}`).toBeGreaterThan(10);
    }
  });
});
