/**
 * Scenario 2: one contract-valid event whose series key is 100,000 characters,
 * a spike (value 2000) on a detector that groups incidents by SERIES, on a
 * stream beside a healthy one in the same worker. The poison must be recorded
 * (as an anomaly or a dead letter) and its partition must move past it; the
 * healthy stream's detection latency (anomaly detectedAt minus event time)
 * must stay as it was: p90 during at most 2x the p90 before (plus 0.1 s for
 * timer granularity) and under 2 s. And Vigil must go on answering: the
 * slowest /healthz answer during at most 2x the slowest before (plus 0.3 s),
 * which a stall of the event loop fails however few anomalies it delays
 * (kafkajs' partitioner once hashed the key copied to the DLQ topic for 0.5 s).
 */
import { percentile } from '../measure.ts';
import { ResponseProbe } from '../response-probe.ts';
import type { Scenario } from '../scenario.ts';
import { poll } from '../services/proc.ts';
import { isReady } from '../vigil.ts';

export const LONG_KEY_LENGTH = 100_000;
const POISON_VALUE = 2000;

export function longKey(smoke: boolean): Scenario {
  let baselineFrom = 0;
  let poisonAt = 0;
  let poison: { partition: number; offset: bigint } | undefined;
  let probe: ResponseProbe | undefined;
  return {
    id: 'long-key',
    title: `a ${LONG_KEY_LENGTH.toLocaleString('en-US')}-character series key (incidents grouped by SERIES) beside a healthy stream`,
    streams: [
      { key: 'poisoned', partitions: 3, hosts: 6, spikeRate: 0.01, rate: 150, groupBy: 'SERIES' },
      { key: 'healthy', partitions: 3, hosts: 6, spikeRate: 0.03, rate: 150, groupBy: 'SERIES' },
    ],
    async fault(ctx) {
      // The first seconds after the warm-up are left out of the baseline: the worker may still be catching up.
      await ctx.flow(3);
      baselineFrom = Date.now();
      probe = new ResponseProbe(ctx.setup.port);
      try {
        await ctx.flow(smoke ? 8 : 15);
        const topic = ctx.streams.poisoned!.topic;
        const key = 'k'.repeat(LONG_KEY_LENGTH);
        poisonAt = Date.now();
        poison = await ctx.traffic.inject(topic, key, JSON.stringify({ host: key, latency_ms: POISON_VALUE, at: new Date(poisonAt).toISOString() }));
        ctx.note('poison', `partition ${poison.partition}, offset ${poison.offset}, produced at ${new Date(poisonAt).toISOString()}`);
        const sent = poison;
        const [ready, past] = await Promise.all([
          poll(async () => (await isReady(ctx.setup.port)) && Date.now(), 60_000, 50),
          poll(async () => ((await ctx.db.committed(ctx.group, [topic])).get(`${topic}:${sent.partition}`) ?? 0n) > sent.offset && Date.now(), 60_000, 50),
        ]);
        const since = (t: number | undefined) => (t === undefined ? undefined : (t - poisonAt) / 1000);
        ctx.recoveries.push({ label: 'past the poison', readySeconds: since(ready), commitSeconds: since(past) });
        await ctx.flow(smoke ? 10 : 20);
      } finally {
        await probe.stop();
      }
    },
    async verify(ctx, anomalies) {
      const healthy = ctx.streams.healthy!.id;
      const latency = (during: boolean) =>
        anomalies
          .filter((a) => a.streamId === healthy && a.eventTime >= baselineFrom && a.eventTime >= poisonAt === during)
          .map((a) => (a.detectedAt - a.eventTime) / 1000);
      const before = latency(false);
      const during = latency(true);
      const s = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(3));
      const [b50, b90, d50, d90] = [percentile(before, 50), percentile(before, 90), percentile(during, 50), percentile(during, 90)];
      ctx.note('healthy latency before', `p50 ${s(b50)} s, p90 ${s(b90)} s (${before.length} anomalies)`);
      ctx.note('healthy latency during', `p50 ${s(d50)} s, p90 ${s(d90)} s (${during.length} anomalies)`);
      const unchanged = b90 !== undefined && d90 !== undefined && d90 <= Math.max(2 * b90, b90 + 0.1) && d90 < 2;
      const [slowBefore, slowDuring] = [probe?.slowest(baselineFrom, poisonAt), probe?.slowest(poisonAt)];
      const responsive = slowBefore !== undefined && slowDuring !== undefined && slowDuring <= Math.max(2 * slowBefore, slowBefore + 0.3);
      ctx.check('Vigil stays responsive', responsive, `slowest /healthz answer ${s(slowDuring)} s during vs ${s(slowBefore)} s before (asked every 50 ms); bar: <= 2x (+0.3 s)`);
      ctx.check('healthy latency unchanged', unchanged, `p90 ${s(d90)} s during vs ${s(b90)} s before; bar: <= 2x (+0.1 s) and < 2 s`);

      const recorded = anomalies.filter((a) => a.value === POISON_VALUE);
      const dead = poison ? (await ctx.db.deadLetters(ctx.streamIds)).filter((d) => d.partition === poison!.partition && BigInt(d.offset) === poison!.offset) : [];
      const outcome = [
        ...recorded.map((a) => `anomaly (series key ${a.seriesKeyLength} chars)`),
        ...dead.map((d) => `dead letter (${d.reason.slice(0, 80)})`),
      ];
      ctx.note('poison outcome', outcome.length > 0 ? outcome.join('; ') : 'not recorded');
      ctx.check('poison recorded', outcome.length === 1, outcome.length === 1 ? 'once' : `${outcome.length} records`);
    },
  };
}
