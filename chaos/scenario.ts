/**
 * One scenario's life: a database of its own on the suite's PostgreSQL, a
 * real `vigil start`, its streams and THRESHOLD detectors, a subscriber, the
 * seeded traffic; then the scenario's faults; then the traffic stops, the
 * partitions drain (or are found stalled), the topics are read back and the
 * result is computed from PostgreSQL against what the topics really hold.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../bench/events.ts';
import { drain, measureRecovery, ScenarioDb, type AnomalyRow, type Recovery } from './measure.ts';
import type { ChaosServices } from './services/index.ts';
import { freePort, poll, type Log } from './services/proc.ts';
import { AnomalySubscriber, resumeSupport } from './subscriber.ts';
import { emptyResult, summarise } from './summary.ts';
import { readBack, Traffic } from './traffic.ts';
import { crashLine, migrateDatabase, registerStream, VigilProcess, waitReady, type RegisteredStream, type VigilSetup } from './vigil.ts';

export interface StreamSpec {
  key: string;
  partitions: number;
  hosts: number;
  spikeRate: number;
  rate: number;
  groupBy: 'DETECTOR' | 'SERIES';
}

export interface RunOptions {
  smoke: boolean;
  seed: number;
  services: ChaosServices;
  logDir: string;
  log: Log;
}

export interface Scenario {
  id: string;
  title: string;
  streams: StreamSpec[];
  env?: Record<string, string>;
  /** After the streams are registered, before the traffic starts (e.g. a runbook). */
  prepare?(ctx: ScenarioContext): Promise<void>;
  /** The faults, while traffic flows; records recoveries, notes and checks through the context. */
  fault(ctx: ScenarioContext): Promise<void>;
  /** After the drain: scenario-specific checks (runbooks, latency). */
  verify?(ctx: ScenarioContext, anomalies: AnomalyRow[]): Promise<void>;
  /** Always, at the end (e.g. a receiver). */
  cleanup?(): Promise<void>;
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  seconds: number;
  events: number;
  expected: number;
  found: number;
  missing: number;
  doubled: number;
  unexpected: number;
  topicDuplicates: number;
  incidentsExpected: number;
  incidentsFound: number;
  incidentsDoubled: number;
  recoveries: (Recovery & { label: string })[];
  subscriber: { resumable: boolean; received: number; missed: number; replayed: number; duplicates: number; reconnects: number };
  stalled: string[];
  notes: [string, string][];
  checks: Check[];
  error?: string;
}

export class ScenarioContext {
  readonly random: () => number;
  readonly notes: [string, string][] = [];
  readonly checks: Check[] = [];
  readonly recoveries: (Recovery & { label: string })[] = [];
  readonly streams: Record<string, RegisteredStream> = {};
  /** Vigil processes that exited without the suite signalling them. */
  readonly crashes: string[] = [];
  vigil!: VigilProcess;
  traffic!: Traffic;
  subscriber!: AnomalySubscriber;
  private generation = 0;

  constructor(
    readonly scenario: Scenario,
    readonly opts: RunOptions,
    readonly setup: VigilSetup,
    readonly db: ScenarioDb,
  ) {
    this.random = mulberry32(opts.seed ^ hash(scenario.id));
  }

  get services(): ChaosServices {
    return this.opts.services;
  }
  get group(): string {
    return `chaos-${this.setup.id}`;
  }
  get topics(): string[] {
    return Object.values(this.streams).map((s) => s.topic);
  }
  get streamIds(): string[] {
    return Object.values(this.streams).map((s) => s.id);
  }
  /** Events per second over all the scenario's streams. */
  get rate(): number {
    return this.scenario.streams.reduce((sum, s) => sum + s.rate, 0);
  }

  /** Starts the next `vigil start` generation (after a kill). */
  spawnVigil(): VigilProcess {
    const vigil = new VigilProcess(this.setup, this.generation++);
    this.vigil = vigil;
    if (vigil.pid !== undefined) this.services.track([vigil.pid]);
    void vigil.exited.then((code) => {
      if (vigil.signalled) return;
      const line = crashLine(vigil);
      this.crashes.push(`process ${vigil.generation} exited by itself (${code}) ${((Date.now() - vigil.startedAt) / 1000).toFixed(1)} s after its start: ${line}`);
      this.opts.log(`  vigil process ${vigil.generation} exited by itself (${code}): ${line}`);
    });
    return vigil;
  }

  /** Lets `seconds` of traffic be acknowledged by the broker (a signal, not a sleep). */
  async flow(seconds: number): Promise<void> {
    await this.traffic.waitAcked(this.traffic.acked + Math.round(seconds * this.rate));
  }

  async recover(faultEnd: number, label: string): Promise<Recovery> {
    const recovery = await measureRecovery(
      { port: this.setup.port, db: this.db, group: this.group, topics: this.topics, streamIds: this.streamIds, gone: () => !this.vigil.running },
      faultEnd,
    );
    this.recoveries.push({ label, ...recovery });
    this.opts.log(`  ${label}: ready ${fmt(recovery.readySeconds)} s, first commit ${fmt(recovery.commitSeconds)} s`);
    return recovery;
  }

  note(label: string, value: string): void {
    this.notes.push([label, value]);
  }

  check(name: string, pass: boolean, detail: string): void {
    this.checks.push({ name, pass, detail });
  }
}

export const fmt = (seconds: number | undefined, digits = 1) => (seconds === undefined ? '>60' : seconds.toFixed(digits));

function hash(text: string): number {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

export async function runScenario(scenario: Scenario, opts: RunOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const { services, log } = opts;
  const stateDir = path.join(services.root, 'state', scenario.id);
  mkdirSync(stateDir, { recursive: true });
  const setup: VigilSetup = {
    id: scenario.id,
    databaseUrl: services.postgres.url(`chaos_${scenario.id.replace(/-/g, '_')}`),
    redisUrl: services.redis.url,
    kafkaBrokers: services.kafka.brokers,
    port: await freePort(),
    logDir: opts.logDir,
    stateDir,
    env: scenario.env,
  };
  await migrateDatabase(setup);
  const ctx = new ScenarioContext(scenario, opts, setup, new ScenarioDb(setup.databaseUrl));
  try {
    ctx.spawnVigil();
    await waitReady(ctx.vigil);
    for (const spec of scenario.streams) {
      ctx.streams[spec.key] = await registerStream(setup.port, `chaos-${scenario.id}-${spec.key}`, spec.partitions, spec.groupBy);
    }
    if (scenario.prepare) await scenario.prepare(ctx);
    const resume = await resumeSupport(setup.port);
    ctx.subscriber = new AnomalySubscriber(setup.port, resume);
    await ctx.subscriber.open();
    ctx.traffic = new Traffic(
      services.kafka.brokers,
      scenario.streams.map((spec, i) => ({ topic: ctx.streams[spec.key]!.topic, hosts: spec.hosts, spikeRate: spec.spikeRate, rate: spec.rate, seed: opts.seed + i })),
      log,
    );
    ctx.traffic.start();
    // Warm: every topic has a commit before any fault, so a fault never meets a worker still subscribing.
    const warm = await poll(async () => (await ctx.db.committed(ctx.group, ctx.topics)).size >= ctx.topics.length, 60_000, 100);
    if (!warm) throw new Error('the worker committed nothing on some topic within 60 s of the traffic starting');
    await scenario.fault(ctx);
    await ctx.traffic.stop();
    const stalled = await drain(ctx.db, services.kafka.brokers, ctx.group, ctx.topics, opts.smoke ? 60_000 : 90_000);
    const back = await readBack(services.kafka.brokers, ctx.topics);
    const anomalies = await ctx.db.anomalies(ctx.streamIds);
    await settleSubscriber(ctx, anomalies);
    if (scenario.verify) await scenario.verify(ctx, anomalies);
    return await summarise(ctx, back, anomalies, stalled, started);
  } catch (error) {
    log(`  ${scenario.id} aborted: ${(error as Error).stack ?? error}`);
    return { ...emptyResult(scenario, started), checks: ctx.checks, recoveries: ctx.recoveries, notes: ctx.notes, error: (error as Error).message };
  } finally {
    await ctx.traffic?.stop(5_000).catch(() => undefined);
    await ctx.subscriber?.close().catch(() => undefined);
    if (ctx.vigil) await ctx.vigil.kill('SIGTERM');
    await ctx.db.close().catch(() => undefined);
    await scenario.cleanup?.().catch(() => undefined);
  }
}

/**
 * Waits until the subscriber has every committed anomaly, at most 15 s: a resumable feed may hold an
 * item until its next catch-up (5 s without a message), so quiet alone does not end the wait.
 */
async function settleSubscriber(ctx: ScenarioContext, anomalies: AnomalyRow[]): Promise<void> {
  await poll(async () => anomalies.every((a) => ctx.subscriber.pushes.has(a.id)), 15_000, 100);
}
