import { describe, expect, it } from 'vitest';
import { afterChildExit, RESTART_POLICY } from '../../src/app/supervisor.ts';
import type { CliIo } from '../../src/cli/command.ts';
import { main } from '../../src/cli/index.ts';
import { WORKER_SEMI_SPACE_MB, workerNodeFlags } from '../../src/core/worker-node-flags.ts';

describe('the restart policy of worker processes', () => {
  const died = (previousDelayMs: number | undefined, uptimeMs: number) => afterChildExit({ stopping: false, uptimeMs, previousDelayMs });

  it('restarts a child that died after 1 s, doubling while it keeps dying young, up to 30 s', () => {
    const delays: number[] = [];
    let previous: number | undefined;
    for (let death = 0; death < 8; death++) {
      const decision = died(previous, 500);
      if (!decision.restart) throw new Error('a dead child was not restarted');
      delays.push(decision.delayMs);
      previous = decision.delayMs;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('starts the backoff over for a child that had stayed up 60 s', () => {
    expect(died(30_000, RESTART_POLICY.stableAfterMs - 1)).toEqual({ restart: true, delayMs: 30_000 });
    expect(died(30_000, RESTART_POLICY.stableAfterMs)).toEqual({ restart: true, delayMs: 1_000 });
  });

  it('restarts a child that exited cleanly on its own, but no child while the supervisor stops', () => {
    expect(died(undefined, 10)).toEqual({ restart: true, delayMs: 1_000 });
    expect(afterChildExit({ stopping: true, uptimeMs: 500, previousDelayMs: 4_000 })).toEqual({ restart: false });
    expect(afterChildExit({ stopping: true, uptimeMs: 120_000, previousDelayMs: undefined })).toEqual({ restart: false });
  });

  it('follows the policy it is given', () => {
    const policy = { firstDelayMs: 10, maxDelayMs: 25, stableAfterMs: 100 };
    expect(afterChildExit({ stopping: false, uptimeMs: 5, previousDelayMs: 10 }, policy)).toEqual({ restart: true, delayMs: 20 });
    expect(afterChildExit({ stopping: false, uptimeMs: 5, previousDelayMs: 20 }, policy)).toEqual({ restart: true, delayMs: 25 });
    expect(afterChildExit({ stopping: false, uptimeMs: 100, previousDelayMs: 25 }, policy)).toEqual({ restart: true, delayMs: 10 });
  });
});

describe('--processes', () => {
  it.each([
    [['worker', '--processes', '0'], 'vigil worker: --processes must be a whole number from 1 to 64 (got "0") (vigil worker --help)'],
    [['worker', '--processes', '65'], 'vigil worker: --processes must be a whole number from 1 to 64 (got "65") (vigil worker --help)'],
    [['worker', '--processes', '1.5'], 'vigil worker: --processes must be a whole number from 1 to 64 (got "1.5") (vigil worker --help)'],
    [['worker', '--processes'], 'vigil worker: option --processes needs a value (vigil worker --help)'],
    [['start', '--processes', 'two'], 'vigil start: --processes must be a whole number from 1 to 64 (got "two") (vigil start --help)'],
    [['gateway', '--processes', '2'], 'vigil gateway: unknown option --processes (vigil gateway --help)'],
  ])('%j: one usage line, exit 2, before any service is touched', async (argv, line) => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io: CliIo = { isTTY: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
    expect(await main(argv, io)).toBe(2);
    expect(stderr).toEqual([line]);
    expect(stdout).toEqual([]);
  });
});

describe('worker node flags', () => {
  it("give a worker a 64 MB semi-space unless the operator chose one, the supervisor's own if it has one, no pretenuring unless asked, and single-threaded GC if the supervisor has it", () => {
    const semiSpace = `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`;
    expect(workerNodeFlags({}, [])).toEqual([semiSpace, '--no-allocation-site-pretenuring']);
    // The children inherit NODE_OPTIONS.
    expect(workerNodeFlags({ NODE_OPTIONS: '--max-semi-space-size=16' }, [])).toEqual(['--no-allocation-site-pretenuring']);
    expect(workerNodeFlags({}, ['--max-semi-space-size=32', '--import', 'tsx'])).toEqual(['--max-semi-space-size=32', '--no-allocation-site-pretenuring']);
    expect(workerNodeFlags({}, ['--allocation-site-pretenuring'])).toEqual([semiSpace, '--allocation-site-pretenuring']);
    expect(workerNodeFlags({}, ['--single-threaded-gc'])).toEqual([semiSpace, '--no-allocation-site-pretenuring', '--single-threaded-gc']);
  });
});
