/**
 * Scenario 3: the Kafka broker SIGKILLed, then started again on the same data
 * dir. Its own restart time (spawn to answering) is reported apart; the fault
 * ends when the broker answers, and Vigil's recovery is measured from there.
 */
import type { Scenario } from '../scenario.ts';

export function kafkaKill(smoke: boolean): Scenario {
  return {
    id: 'kafka-kill',
    title: 'the Kafka broker: SIGKILL, then restart',
    streams: [{ key: 'main', partitions: 3, hosts: 6, spikeRate: 0.01, rate: 250, groupBy: 'SERIES' }],
    async fault(ctx) {
      await ctx.flow(smoke ? 4 : 8);
      const killedAt = Date.now();
      await ctx.services.kafka.kill();
      const brokerSeconds = await ctx.services.kafka.start();
      ctx.services.track();
      const faultEnd = Date.now();
      ctx.note('broker restart (spawn -> answering)', `${brokerSeconds.toFixed(1)} s; broker down ${((faultEnd - killedAt) / 1000).toFixed(1)} s in all`);
      await ctx.recover(faultEnd, 'broker back');
      await ctx.flow(smoke ? 5 : 10);
    },
  };
}
