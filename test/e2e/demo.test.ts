import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.ts';
import { main } from '../../src/cli/index.ts';
import { parseRoute } from '../../console/src/router.ts';
import { TEST_ADMIN_KEY, uniqueName } from '../support/env.ts';
import { startHarness, startTestWorker, type Harness, type TestWorker } from '../support/harness.ts';


/**
 * `vigil demo` against a test gateway and worker (with the runbook side), as
 * a newcomer runs it against `npm start`: it must end with a verified runbook.
 */
const prefix = uniqueName('demo');
const group = `${prefix}-group`;
let h: Harness;
let worker: TestWorker;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, workflows: { stepBackoffMs: 100, incidentSweepMs: 500 } });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

describe('vigil demo', () => {
  it('registers, produces 40 minutes of history, and ends with an incident whose runbook called the webhook and was verified', async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io: CliIo = { isTTY: false, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
    const code = await main(['demo', '--url', h.url, '--key', TEST_ADMIN_KEY, '--port', '0', '--minutes', '40', '--name', `${prefix}-checkout`, '--json'], io);
    expect(stderr.join('\n'), 'what the demo said').not.toContain('vigil demo:');
    expect(code).toBe(0);

    const outcome = JSON.parse(stdout.at(-1)!) as {
      anomalies: { host: string }[];
      incident: { id: string; status: string; url: string; postmortemUrl: string };
      execution: { status: string; verified: boolean; steps: { action: string; status: string }[]; url: string };
      webhookCalls: number;
      webhookRefused: string | null;
    };
    expect(outcome.anomalies.map((a) => a.host).sort()).toEqual(['web-1', 'web-2', 'web-3']);
    expect(outcome.webhookRefused).toBeNull();
    expect(outcome.webhookCalls).toBe(1);
    expect(outcome.execution).toMatchObject({
      status: 'SUCCEEDED',
      verified: true,
      steps: [
        { action: 'NOTIFY', status: 'SUCCEEDED' },
        { action: 'WEBHOOK', status: 'SUCCEEDED' },
      ],
    });
    expect(outcome.incident.url).toBe(`${h.url.replace(/graphql$/, '')}#/incidents/${outcome.incident.id}`);
    // Every link printed is a page the console's router knows.
    const pageOf = (url: string) => parseRoute(new URL(url).hash);
    expect(pageOf(outcome.incident.url)).toEqual({ page: 'incident', id: outcome.incident.id });
    expect(pageOf(outcome.incident.postmortemUrl)).toEqual({ page: 'postmortem', id: outcome.incident.id });
    expect(pageOf(outcome.execution.url)).toEqual({ page: 'incident', id: outcome.incident.id });

    // What a person reads: the links and the verification, on stderr beside the JSON.
    const said = stderr.join('\n');
    expect(said).toContain(`#/incidents/${outcome.incident.id}`);
    expect(said).toMatch(/verified\s+yes/);
    const streamLink = /(http\S+#\/streams\/\S+)/.exec(said)?.[1];
    expect(pageOf(streamLink!)).toMatchObject({ page: 'stream' });
  }, 240_000);
});
