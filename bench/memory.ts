/**
 * Memory per series: for each detector kind, 100k series held as the worker
 * holds them (one partition's DetectorPartitionState, series admitted by
 * admitSeries under the series cap), each fed until its window is full, then
 * the heap after a full GC and the RSS, divided by the series (issue 15).
 *
 *   npm run bench:memory
 *
 * Each kind is measured in a child process of its own (node --expose-gc), so
 * one kind's garbage is not the next one's heap. No services needed. Settings:
 *   BENCH_SERIES (100000)   series per kind, on one partition
 *   BENCH_FILL              events per series; by default enough for the state to stop growing:
 *                           300 for ZSCORE and ENSEMBLE (ZSCORE's default window), 30 for LIKELIHOOD
 *                           (its state is allocated whole by newState: 8.7 kB after 2 events, 8.9 kB after 300)
 *   BENCH_KINDS (ZSCORE,LIKELIHOOD,ENSEMBLE)
 *   VIGIL_MAX_SERIES_PER_DETECTOR (the service's default, 100000): series beyond it are not tracked, as in the worker
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDetector } from '../src/detectors/detector.ts';
import type { DetectorKind } from '../src/generated/prisma/enums.ts';
import type { DetectorPartitionState } from '../src/stream/partition-state.ts';
import { admitSeries, DEFAULT_MAX_SERIES_PER_DETECTOR } from '../src/stream/series-bounds.ts';
import { mulberry32 } from './events.ts';
import { fmtInt, intEnv, machine, printTable } from './kit.ts';

const SERIES = intEnv('BENCH_SERIES', 100_000);
const DEFAULT_FILL: Partial<Record<DetectorKind, number>> = { ZSCORE: 300, LIKELIHOOD: 30, ENSEMBLE: 300 };
const fillOf = (kind: DetectorKind) => intEnv('BENCH_FILL', DEFAULT_FILL[kind] ?? 300);
const CAP = intEnv('VIGIL_MAX_SERIES_PER_DETECTOR', DEFAULT_MAX_SERIES_PER_DETECTOR);
const KINDS = (process.env.BENCH_KINDS || 'ZSCORE,LIKELIHOOD,ENSEMBLE').split(',').map((k) => k.trim()) as DetectorKind[];

/** The kinds' settings: their defaults, as a user registering one without params gets them; ENSEMBLE of ZSCORE and LIKELIHOOD. */
const PARAMS: Partial<Record<DetectorKind, Record<string, unknown>>> = {
  ENSEMBLE: { members: [{ kind: 'ZSCORE' }, { kind: 'LIKELIHOOD' }] },
};

interface Measured {
  kind: DetectorKind;
  fill: number;
  tracked: number;
  heapBytes: number;
  rssBytes: number;
  checkpointBytes: number;
  observeMicros: number;
}

declare const gc: (() => void) | undefined;

function fullGc(): void {
  if (typeof gc !== 'function') throw new Error('run with node --expose-gc');
  gc();
  gc();
}

/** In the child: one kind, measured. */
function measure(kind: DetectorKind): Measured {
  fullGc();
  const before = process.memoryUsage();
  const model = createDetector(kind, PARAMS[kind] ?? {}, 'latency_ms');
  const entry: DetectorPartitionState = { nextOffset: 0n, series: {} };
  const keys = Array.from({ length: SERIES }, (_, i) => `host-${i}`);
  const random = mulberry32(42);
  const start = Date.parse('2026-11-01T00:00:00Z');
  let tracked = 0;
  const fill = fillOf(kind);
  const t = performance.now();
  for (let round = 0; round < fill; round++) {
    // One event a minute per series: LIKELIHOOD's time-of-week slots see a realistic spread.
    const time = start + round * 60_000;
    for (let i = 0; i < SERIES; i++) {
      const state = admitSeries(entry, keys[i]!, CAP, model);
      if (state === undefined) continue;
      if (round === 0) tracked++;
      model.observe(state, 40 + (i % 160) + (random() + random() + random() - 1.5) * 10, time);
    }
  }
  const observeMicros = ((performance.now() - t) * 1000) / (tracked * fill);
  keys.length = 0; // the series' keys live on in the state object; this array is the bench's own
  fullGc();
  const after = process.memoryUsage();
  const sample = Object.entries(entry.series).slice(0, 1000);
  const checkpointBytes = Buffer.byteLength(JSON.stringify(Object.fromEntries(sample))) / Math.max(1, sample.length);
  const held = Object.keys(entry.series).length; // keeps `entry` alive up to here
  return {
    kind,
    fill,
    tracked: held,
    heapBytes: (after.heapUsed - before.heapUsed) / Math.max(1, held),
    rssBytes: (after.rss - before.rss) / Math.max(1, held),
    checkpointBytes,
    observeMicros,
  };
}

function parent(): void {
  const results: Measured[] = [];
  for (const kind of KINDS) {
    const started = performance.now();
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_MEMORY_CHILD: kind },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
    if (child.status !== 0 || !line) {
      console.error(`${kind}: the child failed (status ${child.status}): ${child.stdout}`);
      process.exit(1);
    }
    results.push(JSON.parse(line) as Measured);
    console.log(`${kind}: measured in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const table: [string, string][] = [
    ['machine', machine()],
    ['series', `${fmtInt(SERIES)} per kind on one partition; series cap VIGIL_MAX_SERIES_PER_DETECTOR ${fmtInt(CAP)} per detector and partition (default ${fmtInt(DEFAULT_MAX_SERIES_PER_DETECTOR)})`],
  ];
  for (const r of results) {
    const untracked = SERIES - r.tracked;
    table.push([
      r.kind,
      `${fmtInt(r.heapBytes)} B heap/series, ${fmtInt(r.rssBytes)} B RSS/series (${((r.heapBytes * r.tracked) / 2 ** 20).toFixed(0)} MiB heap for ${fmtInt(r.tracked)} series` +
        `${untracked > 0 ? `, ${fmtInt(untracked)} over the cap untracked` : ''}, ${r.fill} events each); checkpoint JSON ${fmtInt(r.checkpointBytes)} B/series; observe ${r.observeMicros.toFixed(2)} µs`,
    ]);
  }
  printTable('Vigil memory per series (heap used after a full GC, and RSS, over the series held)', table);
}

const childKind = process.env.BENCH_MEMORY_CHILD as DetectorKind | undefined;
if (childKind) console.log(JSON.stringify(measure(childKind)));
else parent();
