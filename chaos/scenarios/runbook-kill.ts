/**
 * Scenario 6: the Vigil process SIGKILLed while a runbook's WEBHOOK step
 * waits on its receiver (a local server on 127.0.0.1 that answers each new
 * request after 4 s, allowed by VIGIL_WEBHOOK_ALLOW). Each series' first spike
 * opens an incident (grouped by SERIES), whose runbook calls the receiver
 * twice and notifies. After the restart every execution must reach a final
 * state, and every step must keep its Idempotency-Key, so the receiver (which,
 * like a careful real one, answers a repeated key from its record) does each
 * step's work exactly once.
 */
import { startReceiver, type Receiver } from '../../test/support/receiver.ts';
import type { Scenario } from '../scenario.ts';
import { poll } from '../services/proc.ts';
import { gql } from '../vigil.ts';

const FINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
const WEBHOOK_STEPS = 2;

export function runbookKill(smoke: boolean): Scenario {
  let receiver: Receiver | undefined;
  return {
    id: 'runbook-kill',
    title: 'a runbook worker SIGKILLed in the middle of a WEBHOOK step',
    streams: [{ key: 'main', partitions: 3, hosts: 3, spikeRate: 0.01, rate: 150, groupBy: 'SERIES' }],
    async prepare(ctx) {
      receiver = await startReceiver({ delayMs: () => 4000 });
      const webhook = { action: 'WEBHOOK', params: { url: receiver.url, secret: 'chaos-webhook-secret' } };
      await gql(ctx.setup.port, `mutation($input: RegisterRunbookInput!) { registerRunbook(input: $input) { id } }`, {
        input: {
          name: 'chaos-runbook',
          trigger: { streamId: ctx.streams.main!.id },
          steps: [webhook, webhook, { action: 'NOTIFY' }],
          cooldownSeconds: 0,
        },
      });
    },
    async fault(ctx) {
      const hook = receiver!;
      const pending = await poll(async () => hook.requests.filter((r) => r.status === undefined).length || false, 60_000, 20);
      if (!pending) throw new Error('no webhook request reached the receiver within 60 s');
      await ctx.vigil.kill('SIGKILL');
      const faultEnd = Date.now();
      ctx.note('at the kill', `${hook.requests.filter((r) => r.status === undefined).length} webhook requests unanswered, ${hook.requests.length} sent`);
      ctx.spawnVigil();
      await ctx.recover(faultEnd, 'restart after the kill');
      await ctx.flow(smoke ? 5 : 10);
    },
    async verify(ctx) {
      const hook = receiver!;
      const started = Date.now();
      const finished = await poll(async () => {
        const all = await ctx.db.executions();
        return all.length > 0 && all.every((e) => FINAL.includes(e.status)) && all;
      }, 120_000, 200);
      const executions = finished ?? (await ctx.db.executions());
      const statuses = new Map<string, number>();
      for (const e of executions) statuses.set(e.status, (statuses.get(e.status) ?? 0) + 1);
      ctx.note('executions', `${executions.length}: ${[...statuses].map(([s, n]) => `${n} ${s}`).join(', ')}` +
        (finished ? `, all final ${((Date.now() - started) / 1000).toFixed(1)} s after the drain` : ', NOT all final within 120 s'));
      ctx.check('every execution final', finished !== undefined && executions.length > 0, [...statuses].map(([s, n]) => `${n} ${s}`).join(', ') || 'no executions');
      const keys = new Set(hook.requests.map((r) => r.key));
      const expectedKeys = executions.filter((e) => e.status === 'SUCCEEDED').length * WEBHOOK_STEPS;
      ctx.note('webhook calls / distinct keys', `${hook.requests.length}/${keys.size}`);
      const replays = hook.requests.filter((r) => r.replay).length;
      const overdone = [...hook.successes.values()].filter((n) => n > 1).length;
      ctx.note('webhooks', `${hook.requests.length} calls, ${keys.size} distinct Idempotency-Keys (expected ${expectedKeys}), ${replays} answered from the receiver's record, ${overdone} keys processed twice`);
      ctx.check('one Idempotency-Key per step', keys.size === expectedKeys && !keys.has(undefined) && overdone === 0, `${keys.size} keys for ${expectedKeys} steps`);
    },
    async cleanup() {
      await receiver?.close();
    },
  };
}
