import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.ts';
import { awaitedJob } from '../../src/workflows/reconciler.ts';
import { intervalsWithoutRun } from '../../src/workflows/schedule-watch.ts';
import { recurringJobsOf } from '../../src/workflows/schedules.ts';
import { stalledReason } from '../../src/workflows/step-failure.ts';

const step = (index: number, status: string, attempts = 0) => ({ index, status, attempts, params: { maxAttempts: 3 } });

describe('the job an unfinished execution waits on', () => {
  it('is its start job while QUEUED', () => {
    expect(awaitedJob({ id: 'exe_1', status: 'QUEUED', steps: [step(0, 'QUEUED')] })).toEqual({ kind: 'start', jobId: 'exe_1' });
  });

  it('is the first step not done while RUNNING, a step waiting for its retry included', () => {
    const execution = { id: 'exe_1', status: 'RUNNING', steps: [step(1, 'QUEUED'), step(0, 'SUCCEEDED', 1), step(2, 'QUEUED')] };
    expect(awaitedJob(execution)).toMatchObject({ kind: 'step', jobId: 'exe_1-step-1', index: 1 });
    const retrying = { id: 'exe_1', status: 'RUNNING', steps: [step(0, 'RUNNING', 2), step(1, 'QUEUED')] };
    expect(awaitedJob(retrying)).toMatchObject({ kind: 'step', jobId: 'exe_1-step-0', index: 0, attempts: 2 });
  });

  it('is the last step when every step is done but the execution was not marked so', () => {
    expect(awaitedJob({ id: 'exe_1', status: 'RUNNING', steps: [step(0, 'SUCCEEDED', 1), step(1, 'SUCCEEDED', 1)] })).toMatchObject({ jobId: 'exe_1-step-1' });
  });

  it('is none when the step it is at has ended', () => {
    expect(awaitedJob({ id: 'exe_1', status: 'RUNNING', steps: [step(0, 'FAILED', 3)] })).toBeUndefined();
  });
});

describe('recurring jobs', () => {
  it('are the sweep, retention and SLA evaluation, canaries and the sampler as configured', () => {
    const all = recurringJobsOf(loadConfig({ VIGIL_CANARY_MS: '1000', VIGIL_SELF_MONITOR_MS: '2000' }));
    expect(all.wanted.map((j) => [j.schedulerId, j.everyMs])).toEqual([
      ['sweep-incidents', 10_000],
      ['retention', 3_600_000],
      ['evaluate-slas', 10_000],
      ['canary', 1000],
      ['self-monitor:vigil', 2000],
    ]);
    const limited = recurringJobsOf(loadConfig({ VIGIL_CANARY_MS: '0', VIGIL_WORKER_STREAMS: 'orders*' }));
    expect(limited.wanted.map((j) => j.schedulerId)).toEqual(['sweep-incidents', 'retention', 'evaluate-slas:orders*']);
    expect(limited.unwanted).toEqual(['canary:orders*']);
  });

  it('count intervals without a run from the later of the last run and the start of watching', () => {
    const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000);
    expect(intervalsWithoutRun(10_000, at(0), at(5), at(35))).toBe(3);
    expect(intervalsWithoutRun(10_000, at(20), at(5), at(35))).toBe(1.5);
    expect(intervalsWithoutRun(10_000, undefined, at(5), at(15))).toBe(1);
  });
});

describe('a step whose workers kept dying', () => {
  it('fails saying how many times', () => {
    expect(stalledReason(4)).toBe("the step's worker stopped 4 times");
  });
});
