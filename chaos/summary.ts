/**
 * A scenario's figures, computed after the drain from PostgreSQL against what
 * the topics really hold (read back from the broker): anomalies expected,
 * found, missing and doubled; incidents per group; the subscriber's pushes.
 */
import type { AnomalyRow } from './measure.ts';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.ts';
import { SPIKE_BASE, type ReadBack } from './traffic.ts';

export async function summarise(ctx: ScenarioContext, back: ReadBack, anomalies: AnomalyRow[], stalled: string[], started: number): Promise<ScenarioResult> {
  const found = new Map<string, number>();
  let unexpected = 0;
  const poisonValues = new Set(back.others.map((o) => o.value));
  for (const a of anomalies) {
    const id = `${a.topic} ${a.value}`;
    if (a.value >= SPIKE_BASE && back.spikes.has(id)) found.set(id, (found.get(id) ?? 0) + 1);
    else if (!poisonValues.has(a.value)) unexpected++;
  }
  let missing = 0;
  let doubled = 0;
  let topicDuplicates = 0;
  for (const [id, copies] of back.spikes) {
    const n = found.get(id) ?? 0;
    if (n === 0) missing++;
    doubled += Math.max(0, n - copies);
    topicDuplicates += copies - 1;
  }
  // One incident per series (SERIES) or per stream (DETECTOR) with a spike: the spikes of a series are seconds apart.
  const expectedGroups = new Set<string>();
  for (const spec of ctx.scenario.streams) {
    const stream = ctx.streams[spec.key]!;
    for (const series of back.spikeSeries) {
      const [topic, key] = series.split(' ');
      if (topic !== stream.topic) continue;
      expectedGroups.add(spec.groupBy === 'SERIES' ? `${stream.id}/${stream.detectorId}/${key}` : `${stream.id}/${stream.detectorId}`);
    }
  }
  const incidents = await ctx.db.incidentsPerGroup(ctx.streamIds);
  let incidentsFound = 0;
  let incidentsDoubled = 0;
  for (const group of expectedGroups) {
    const n = incidents.get(group) ?? 0;
    if (n > 0) incidentsFound++;
    incidentsDoubled += Math.max(0, n - 1);
  }
  const subscriber = ctx.subscriber;
  if (ctx.crashes.length > 0) ctx.check('no Vigil process died on its own', false, ctx.crashes.join(' | '));
  const topics = new Set(ctx.topics);
  const received = [...subscriber.pushes.values()].filter((p) => topics.has(p.topic));
  const missedRows = anomalies.filter((a) => !subscriber.pushes.has(a.id));
  const missed = missedRows.length;
  if (missed > 0) {
    const shown = missedRows.slice(0, 3).map((a) => `${a.topic}:${a.partition}@${a.offset} value ${a.value} detected ${new Date(a.detectedAt).toISOString()}`);
    ctx.note('not pushed', `${shown.join('; ')}${missed > 3 ? ` and ${missed - 3} more` : ''}`);
  }
  const errors = new Map<string, number>();
  for (const e of subscriber.errors) errors.set(e, (errors.get(e) ?? 0) + 1);
  if (errors.size > 0) {
    ctx.note('subscriber errors', [...errors].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([e, n]) => `${n}x ${e}`).join('; '));
  }
  const replayed = received.filter((p) => p.replayed).length;
  return {
    id: ctx.scenario.id,
    title: ctx.scenario.title,
    seconds: (Date.now() - started) / 1000,
    events: back.messages,
    expected: back.spikes.size,
    found: found.size,
    missing,
    doubled,
    unexpected,
    topicDuplicates,
    incidentsExpected: expectedGroups.size,
    incidentsFound,
    incidentsDoubled,
    recoveries: ctx.recoveries,
    subscriber: { resumable: subscriber.resume !== undefined, received: received.length, missed, replayed, duplicates: subscriber.duplicates, reconnects: subscriber.reconnects },
    stalled,
    notes: ctx.notes,
    checks: ctx.checks,
  };
}

export function emptyResult(scenario: Scenario, started: number): ScenarioResult {
  return {
    id: scenario.id,
    title: scenario.title,
    seconds: (Date.now() - started) / 1000,
    events: 0,
    expected: 0,
    found: 0,
    missing: 0,
    doubled: 0,
    unexpected: 0,
    topicDuplicates: 0,
    incidentsExpected: 0,
    incidentsFound: 0,
    incidentsDoubled: 0,
    recoveries: [],
    subscriber: { resumable: false, received: 0, missed: 0, replayed: 0, duplicates: 0, reconnects: 0 },
    stalled: [],
    notes: [],
    checks: [],
  };
}
