/**
 * The fault suite: `npm run chaos` (every scenario, 20 Vigil kills) and
 * `npm run chaos:smoke` (the short variant CI runs). It starts its own
 * PostgreSQL, Redis and Kafka on ports of its own, runs one scenario at a time
 * against a real `vigil start`, prints a block per scenario and a final table,
 * and exits 1 when any scenario misses its bar. See docs/faults.md.
 *
 *   node --import tsx chaos/run.ts [--smoke] [--only id,id] [--seed N] [--kills N] [--keep]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/core/paths.ts';
import { block, failures, table } from './report.ts';
import { runScenario, type Scenario, type ScenarioResult } from './scenario.ts';
import { kafkaKill } from './scenarios/kafka-kill.ts';
import { longKey } from './scenarios/long-key.ts';
import { postgresRestart } from './scenarios/postgres.ts';
import { redisKill, redisRestart } from './scenarios/redis.ts';
import { runbookKill } from './scenarios/runbook-kill.ts';
import { vigilKill } from './scenarios/vigil-kill.ts';
import { startServices, stopLeftovers, type ChaosServices } from './services/index.ts';
import { liveVigils } from './vigil.ts';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    seed: { type: 'string', default: '2026' },
    kills: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const smoke = values.smoke ?? false;
const seed = Number(values.seed);
const kills = Number(values.kills ?? (smoke ? 3 : 20));

const started = Date.now();
const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);
const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
};

const all: Scenario[] = [
  vigilKill(kills),
  longKey(smoke),
  kafkaKill(smoke),
  redisKill(smoke),
  redisRestart(smoke),
  postgresRestart('fast', smoke),
  postgresRestart('immediate', smoke),
  runbookKill(smoke),
];
// The smoke run keeps one of each kind of part, with the rougher fault where there are two.
const SMOKE = ['vigil-kill', 'long-key', 'kafka-kill', 'redis-kill', 'postgres-immediate', 'runbook-kill'];
const only = values.only?.split(',').map((s) => s.trim());
const chosen = all.filter((s) => (only ? only.includes(s.id) : !smoke || SMOKE.includes(s.id)));
if (chosen.length === 0) {
  console.error(`no scenario matches --only ${values.only}; ids: ${all.map((s) => s.id).join(', ')}`);
  process.exit(2);
}

const dirty = git('status', '--porcelain').split('\n').filter(Boolean).length;
const header = `${new Date().toISOString()} commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ` (+${dirty} uncommitted files)` : ''}, seed ${seed}`;
console.log(`Vigil fault suite (${smoke ? 'smoke' : 'full'}): ${chosen.map((s) => s.id).join(', ')}\n${header}`);

let services: ChaosServices | undefined;
let root: string | undefined;
let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const vigil of liveVigils) await vigil.kill('SIGKILL');
  await services?.stop();
  if (root && !values.keep) {
    for (const dir of ['postgres', 'kafka', 'redis', 'state']) rmSync(path.join(root, dir), { recursive: true, force: true });
  }
}
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.once(name, () => {
    log(`${name}: stopping everything the suite started`);
    void shutdown().finally(() => process.exit(130));
  });
}

const results: ScenarioResult[] = [];
try {
  await stopLeftovers(log);
  root = mkdtempSync(path.join(tmpdir(), 'vigil-chaos-'));
  const logDir = path.join(root, 'logs');
  mkdirSync(logDir, { recursive: true });
  log(`run dir ${root} (Vigil logs in logs/)`);
  services = await startServices(root, log);
  for (const scenario of chosen) {
    await services.ensureRunning();
    log(`${scenario.id}: ${scenario.title}`);
    const result = await runScenario(scenario, { smoke, seed, services, logDir, log });
    results.push(result);
    console.log(`\n${block(result)}\n`);
  }
} catch (error) {
  log(`suite aborted: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
} finally {
  await shutdown();
}

const failed = results.filter((r) => failures(r).length > 0);
const summary = [
  `Vigil fault suite (${smoke ? 'smoke' : 'full'}), ${header}, ${((Date.now() - started) / 1000 / 60).toFixed(1)} min`,
  '',
  table(results),
  '',
  ...results.map((r) => `${r.id}: ${failures(r).length === 0 ? 'PASS' : `FAIL: ${failures(r).join('; ')}`}`),
].join('\n');
console.log(`\n${summary}\n`);
const stateDir = path.join(PROJECT_ROOT, '.vigil', 'chaos');
mkdirSync(stateDir, { recursive: true });
writeFileSync(path.join(stateDir, `last-${smoke ? 'smoke' : 'full'}.txt`), `${summary}\n\n${results.map(block).join('\n\n')}\n`);
writeFileSync(path.join(stateDir, `last-${smoke ? 'smoke' : 'full'}.json`), JSON.stringify({ header, results }, null, 2));
if (failed.length > 0 || results.length < chosen.length) process.exitCode = 1;
console.log(failed.length === 0 && results.length === chosen.length ? 'all scenarios met the bar' : `${failed.length} of ${chosen.length} scenarios missed the bar`);
// Client libraries can leave timers behind; the suite's verdict is final.
setTimeout(() => process.exit(), 500).unref();
