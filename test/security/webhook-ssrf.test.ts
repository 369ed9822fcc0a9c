import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_ALLOWLIST } from '../../src/core/allowlist.ts';
import { postOutbound } from '../../src/outbound/post.ts';
import { OutboundRefusedError, type Resolver } from '../../src/outbound/target-guard.ts';
import type { Worker } from '../../src/stream/worker-options.ts';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, startHarness, startTestWorker, type Harness } from '../support/harness.ts';
import { startEndlessBody, startRedirector, type HostileServer } from '../support/hostile-servers.ts';
import { waitFor } from '../support/processes.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import {
  FINISHED,
  incident,
  incidentsOf,
  registerRunbook,
  sendEvents,
  streamWithThreshold,
  TRIGGER_RUNBOOK,
  waitForExecution,
  type TestStream,
} from '../support/runbooks.ts';

/**
 * Runbook WEBHOOK steps against a real gateway and runner: targets inside the
 * network are refused when the runbook is registered and again when the step
 * sends, redirects are not followed, answers are capped, and credentials in
 * URLs never show. The allowlist names only the ports of this file's own
 * receivers, so 127.0.0.1 on any other port is as hostile as the rest.
 */
const prefix = uniqueName('ssrf');
const group = `${prefix}-group`;
let h: Harness;
let worker: Worker;
let stream: TestStream;
let hook: Receiver;
let internal: Receiver;
let failing: Receiver;
let redirector: HostileServer;
let endless: HostileServer;

beforeAll(async () => {
  hook = await startReceiver();
  internal = await startReceiver();
  failing = await startReceiver({ then: 500 });
  redirector = await startRedirector(`${internal.url}?token=inner-s3cret`);
  endless = await startEndlessBody('{"session_token":"flood-s3cret","data":"');
  const allowed = [hook.url, failing.url, redirector.url, endless.url].map((url) => new URL(url).host);
  h = await startHarness({ consumerGroup: group, env: { VIGIL_WEBHOOK_ALLOW: [...allowed, 'pinned.test'].join(',') } });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group, workflows: { stepBackoffMs: 100 } });
  stream = await streamWithThreshold(h, prefix);
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
  await Promise.all([hook, internal, failing, redirector, endless].map((server) => server?.close()));
});

const portOf = (receiver: Receiver) => new URL(receiver.url).port;
const REGISTER = /* GraphQL */ `mutation($input: RegisterRunbookInput!) { registerRunbook(input: $input) { id } }`;
const finished = (e: { status: string }) => FINISHED.includes(e.status);

async function trigger(runbookId: string, incidentId?: string): Promise<string> {
  const { triggerRunbook } = await h
    .client(h.secrets.OPERATOR)
    .request<{ triggerRunbook: { id: string } }>(TRIGGER_RUNBOOK, { runbookId, incidentId });
  return triggerRunbook.id;
}

async function runOnce(url: string): Promise<Awaited<ReturnType<typeof waitForExecution>>> {
  const runbook = await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'WEBHOOK', params: { url, maxAttempts: 1 } }] });
  return waitForExecution(h, await trigger(runbook.id), finished, 'finished');
}

describe('registering a WEBHOOK aimed inside the network', () => {
  it.each([
    ['http://127.0.0.1/hook', 'loopback'],
    ['http://localhost/hook', 'loopback'],
    ['http://[::1]:8080/hook', 'loopback'],
    ['http://2130706433/hook', 'loopback'],
    ['http://0x7f000001/hook', 'loopback'],
    ['http://0177.0.0.1/hook', 'loopback'],
    ['http://127.1/hook', 'loopback'],
    ['http://[::ffff:127.0.0.1]/hook', 'loopback'],
    ['http://[::ffff:7f00:1]/hook', 'loopback'],
    ['http://[64:ff9b::7f00:1]/hook', 'loopback'],
    ['http://0.0.0.0/hook', 'unspecified'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[fe80::1]/hook', 'link-local'],
    ['http://10.0.0.1/hook', 'private'],
    ['http://172.16.0.1/hook', 'private'],
    ['http://192.168.1.1/hook', 'private'],
    ['http://[fc00::1]/hook', 'private'],
    ['http://[fd12:3456::1]/hook', 'private'],
    ['http://100.64.0.1/hook', 'carrier-grade NAT'],
    ['http://224.0.0.1/hook', 'multicast'],
    ['http://[ff02::1]/hook', 'multicast'],
    ['http://240.0.0.1/hook', 'reserved'],
  ])('refuses %s (%s) with BAD_USER_INPUT naming the field, and writes nothing', async (url, kind) => {
    const name = uniqueName('rb-ssrf');
    const input = { name, trigger: { streamId: stream.id }, steps: [{ action: 'NOTIFY' }, { action: 'WEBHOOK', params: { url } }] };
    const [error] = await graphqlErrors(h.admin.request(REGISTER, { input }));
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.steps[1].params.url' });
    expect(error?.message).toMatch(new RegExp(`^input\\.steps\\[1\\]\\.params\\.url: .*resolves to .*, an? ${kind} address; add the host to VIGIL_WEBHOOK_ALLOW to allow it$`));
    expect(await h.runtime.services.ports.db.runbook.count({ where: { name } })).toBe(0);
  });

  it('refuses an allowed address on a port the allowlist does not name, and a name for it that is not listed', async () => {
    for (const url of [`http://127.0.0.1:${portOf(internal)}/hook`, `http://localhost:${portOf(hook)}/hook`]) {
      const [error] = await graphqlErrors(h.admin.request(REGISTER, { input: { name: uniqueName('rb'), trigger: { streamId: stream.id }, steps: [{ action: 'WEBHOOK', params: { url } }] } }));
      expect(error?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.steps[0].params.url' });
    }
  });
});

describe('sending a WEBHOOK', () => {
  it('reaches a receiver on 127.0.0.1 through the allowlist; an OPERATOR reads the output, a VIEWER gets null', async () => {
    const done = await runOnce(hook.url);
    expect(done.status).toBe('SUCCEEDED');
    expect(hook.requests.filter((r) => r.key === `${done.id}:0`)).toHaveLength(1);
    expect(done.steps[0]!.output).toEqual({ status: 200, excerpt: expect.stringMatching(/^\{"request":\d+,"processed":\d+\}$/), truncated: false });

    const query = `query($id: ID!) { execution(id: $id) { steps { status output } } }`;
    const asViewer = await h.client(h.secrets.VIEWER).request<{ execution: { steps: unknown[] } }>(query, { id: done.id });
    expect(asViewer.execution.steps).toEqual([{ status: 'SUCCEEDED', output: null }]);
    const asOperator = await h.client(h.secrets.OPERATOR).request<{ execution: { steps: { output: unknown }[] } }>(query, { id: done.id });
    expect(asOperator.execution.steps[0]!.output).toEqual(done.steps[0]!.output);
  });

  it('does not follow a redirect to an internal URL: the step fails saying so, and the internal receiver hears nothing', async () => {
    const done = await runOnce(redirector.url);
    expect(done.status).toBe('FAILED');
    expect(done.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(done.steps[0]!.error).toBe(
      `POST ${redirector.url} answered 302 to ${internal.url}?[redacted]; redirects are not followed: give the final URL`,
    );
    expect(redirector.hits).toBeGreaterThanOrEqual(1);
    expect(internal.requests).toHaveLength(0);
  });

  it('stops reading an endless answer at the cap and keeps only a short redacted excerpt', async () => {
    const done = await runOnce(endless.url);
    expect(done.status).toBe('SUCCEEDED');
    await endless.clientHungUp;
    const output = done.steps[0]!.output as { status: number; excerpt: string; truncated: boolean };
    expect(output).toMatchObject({ status: 200, truncated: true });
    expect(output.excerpt.length).toBeLessThanOrEqual(203);
    expect(output.excerpt).toMatch(/^\{"session_token":"\[redacted\]/);
    const row = await h.runtime.services.ports.db.stepExecution.findFirstOrThrow({ where: { executionId: done.id } });
    expect(JSON.stringify(row.output).length).toBeLessThan(400);
  });

  it('refuses at send time a name that resolved to a public address at registration and to loopback now', async () => {
    const outbound = h.runtime.services.outbound;
    const systemResolve = outbound.resolve;
    let answer = '93.184.215.14';
    outbound.resolve = async (hostname) => (hostname === 'rebind.test' ? [{ address: answer, family: 4 }] : systemResolve(hostname));
    try {
      const url = `http://rebind.test:${portOf(hook)}/hook`;
      const runbook = await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'WEBHOOK', params: { url, maxAttempts: 1 } }] });
      answer = '127.0.0.1';
      const done = await waitForExecution(h, await trigger(runbook.id), finished, 'finished');
      expect(done.steps[0]).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: `POST ${url} refused: rebind.test resolves to 127.0.0.1, a loopback address; add the host to VIGIL_WEBHOOK_ALLOW to allow it`,
      });
      expect(hook.requests.filter((r) => r.key?.startsWith(done.id))).toHaveLength(0);
    } finally {
      outbound.resolve = systemResolve;
    }
  });

  it('connects to the address the guarded lookup checked: an allowlisted test name reaches the receiver', async () => {
    const outbound = h.runtime.services.outbound;
    const systemResolve = outbound.resolve;
    outbound.resolve = async (hostname) => (hostname === 'pinned.test' ? [{ address: '127.0.0.1', family: 4 }] : systemResolve(hostname));
    try {
      const done = await runOnce(`http://pinned.test:${portOf(hook)}/hook`);
      expect(done.status).toBe('SUCCEEDED');
      expect(hook.requests.filter((r) => r.key === `${done.id}:0`).map((r) => r.headers.host)).toEqual([`pinned.test:${portOf(hook)}`]);
    } finally {
      outbound.resolve = systemResolve;
    }
  });
});

describe('credentials in webhook URLs', () => {
  it('are redacted in runbook params, step errors and timelines, and still sent to the receiver', async () => {
    const other = await streamWithThreshold(h, prefix);
    await sendEvents(h, other.topic, [{ at: 0, value: 1500 }]);
    const theIncident = await waitFor(async () => (await incidentsOf(h, other.id))[0], 30_000, () => `stream ${other.id} opened no incident`);
    const url = `http://alice:pa55word@127.0.0.1:${portOf(failing)}/hook?token=s3cr3t-q`;
    const shown = `http://[redacted]@127.0.0.1:${portOf(failing)}/hook?[redacted]`;
    const runbook = await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'WEBHOOK', params: { url, maxAttempts: 1 } }] });

    const { runbooks } = await h.client(h.secrets.VIEWER).request<{ runbooks: { id: string; steps: { params: { url: string } }[] }[] }>(
      `{ runbooks { id steps { params } } }`,
    );
    expect(runbooks.find((r) => r.id === runbook.id)!.steps[0]!.params.url).toBe(shown);

    const done = await waitForExecution(h, await trigger(runbook.id, theIncident.id), finished, 'finished');
    expect(done.status).toBe('FAILED');
    expect(done.steps[0]!.error).toContain(`POST ${shown} answered 500`);
    const timeline = (await incident(h, theIncident.id)).timeline;
    expect(timeline.find((t) => t.kind === 'STEP_FAILED')!.message).toContain(`POST ${shown} answered 500`);
    const stored = await h.runtime.services.ports.db.stepExecution.findFirstOrThrow({ where: { executionId: done.id } });
    expect(JSON.stringify({ runbooks, done, timeline, stored: stored.error })).not.toMatch(/alice|pa55word|s3cr3t-q/);

    // Redaction is for display: the receiver still gets what the URL says.
    const received = failing.requests.find((r) => r.key === `${done.id}:0`)!;
    expect(received.path).toBe('/hook?token=s3cr3t-q');
    expect(received.headers.authorization).toBe(`Basic ${Buffer.from('alice:pa55word').toString('base64')}`);
  });
});

describe('postOutbound without the runner', () => {
  it('refuses an IP literal at send time even though no DNS lookup happens for it', async () => {
    const noDns: Resolver = async (): Promise<LookupAddress[]> => {
      throw new Error('no lookup expected');
    };
    const sending = postOutbound({ url: internal.url, headers: {}, body: '{}', timeoutMs: 2000 }, { allow: EMPTY_ALLOWLIST, resolve: noDns });
    await expect(sending).rejects.toBeInstanceOf(OutboundRefusedError);
    await expect(sending).rejects.toThrow('resolves to 127.0.0.1, a loopback address');
    expect(internal.requests).toHaveLength(0);
  });
});
