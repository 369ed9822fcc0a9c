/**
 * Scenario 1: the Vigil process SIGKILLed at seeded random moments while events
 * flow (20 times; 3 in the smoke run), restarted at once each time, as a
 * supervisor would. Each kill's fault ends when the next process is spawned.
 */
import type { Scenario } from '../scenario.ts';

export function vigilKill(kills: number): Scenario {
  return {
    id: 'vigil-kill',
    title: `the Vigil process, ${kills} SIGKILLs at seeded moments while events flow`,
    streams: [{ key: 'main', partitions: 3, hosts: 6, spikeRate: 0.01, rate: 250, groupBy: 'SERIES' }],
    async fault(ctx) {
      await ctx.flow(3);
      for (let k = 1; k <= kills; k++) {
        // The one kind of sleep the suite allows: the seeded moment of the kill, 0.2 to 3 s into a working run.
        await new Promise((resolve) => setTimeout(resolve, 200 + ctx.random() * 2800));
        await ctx.vigil.kill('SIGKILL');
        const faultEnd = Date.now();
        ctx.spawnVigil();
        await ctx.recover(faultEnd, `kill ${k}/${kills}`);
      }
      await ctx.flow(5);
    },
  };
}
