/**
 * Scenario 5: PostgreSQL restarted under load, `pg_ctl restart -m fast`
 * (sessions ended, a checkpoint) and `-m immediate` (no checkpoint: crash
 * recovery on start). The fault ends when the server accepts connections again.
 */
import type { Scenario } from '../scenario.ts';

export function postgresRestart(mode: 'fast' | 'immediate', smoke: boolean): Scenario {
  return {
    id: `postgres-${mode}`,
    title: `PostgreSQL: pg_ctl restart -m ${mode}`,
    streams: [{ key: 'main', partitions: 3, hosts: 6, spikeRate: 0.01, rate: 250, groupBy: 'SERIES' }],
    async fault(ctx) {
      await ctx.flow(smoke ? 4 : 8);
      const seconds = await ctx.services.postgres.restart(mode);
      ctx.services.track();
      const faultEnd = Date.now();
      ctx.note('postgres restart', `${seconds.toFixed(2)} s (pg_ctl restart -m ${mode}, until it accepts connections)`);
      await ctx.recover(faultEnd, `postgres back (${mode})`);
      await ctx.flow(smoke ? 5 : 10);
    },
  };
}
