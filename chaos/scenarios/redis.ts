/**
 * Scenario 4: Redis SIGKILLed, left down while 5 s of events flow (3 s in the
 * smoke run), then started empty: every BullMQ job, schedule, rate-limit bucket
 * and pub/sub subscription gone. Detection must go on while it is down (Redis is
 * not on the detection path). And Redis restarted gracefully (SHUTDOWN SAVE,
 * then a start that loads the snapshot).
 */
import type { Scenario } from '../scenario.ts';

const streams: Scenario['streams'] = [{ key: 'main', partitions: 3, hosts: 6, spikeRate: 0.01, rate: 250, groupBy: 'SERIES' }];

export function redisKill(smoke: boolean): Scenario {
  return {
    id: 'redis-kill',
    title: 'Redis: SIGKILL, down while events flow, restarted empty (data lost)',
    streams,
    async fault(ctx) {
      await ctx.flow(smoke ? 4 : 8);
      const keys = await ctx.services.redis.keys();
      await ctx.services.redis.kill();
      const downAt = Date.now();
      const before = await ctx.db.commitMark(ctx.group, ctx.topics, ctx.streamIds);
      await ctx.flow(smoke ? 3 : 5);
      const after = await ctx.db.commitMark(ctx.group, ctx.topics, ctx.streamIds);
      const seconds = await ctx.services.redis.start();
      ctx.services.track();
      const faultEnd = Date.now();
      const [events0, anomalies0] = before.split('/').map(Number);
      const [events1, anomalies1] = after.split('/').map(Number);
      const committed = events1! - events0!;
      ctx.note('while Redis was down', `${((faultEnd - downAt) / 1000).toFixed(1)} s: ${committed} events and ${anomalies1! - anomalies0!} anomalies committed`);
      ctx.check('detection without Redis', committed > 0, `${committed} events committed while Redis was down`);
      ctx.note('redis', `${keys} keys before, ${await ctx.services.redis.keys()} after; start ${seconds.toFixed(2)} s`);
      await ctx.recover(faultEnd, 'redis back (empty)');
      await ctx.flow(smoke ? 5 : 10);
    },
  };
}

export function redisRestart(smoke: boolean): Scenario {
  return {
    id: 'redis-restart',
    title: 'Redis: graceful restart (SHUTDOWN SAVE, data kept)',
    streams,
    async fault(ctx) {
      await ctx.flow(smoke ? 4 : 8);
      const keys = await ctx.services.redis.keys();
      const seconds = await ctx.services.redis.gracefulRestart();
      ctx.services.track();
      const faultEnd = Date.now();
      ctx.note('redis', `${keys} keys before, ${await ctx.services.redis.keys()} after; restart ${seconds.toFixed(2)} s`);
      await ctx.recover(faultEnd, 'redis back');
      await ctx.flow(smoke ? 5 : 10);
    },
  };
}
