import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigilClient } from '../../sdk/index.ts';
import type { CliIo } from '../../src/cli/command.ts';
import { main } from '../../src/cli/index.ts';
import { TEST_ADMIN_KEY, uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, startHarness, startTestWorker, type Harness, type TestWorker } from '../support/harness.ts';
import { waitForCommitted } from '../support/streams.ts';

/** `vigil replay` against a test gateway and worker: sets the replay, then waits for the worker to re-read. */
const prefix = uniqueName('cli-replay');
const group = `${prefix}-group`;
let h: Harness;
let worker: TestWorker;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  worker = await startTestWorker(h, { streams: [`${prefix}*`], group });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

describe('vigil replay', () => {
  it('moves the stream back to the given time and exits 0 once the worker has caught up', async () => {
    const sdk = createVigilClient(h.url, TEST_ADMIN_KEY);
    const { registerStream: stream } = await sdk.registerStream({
      input: { name: prefix, topic: prefix, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms'], partitions: 1 },
    });
    await sdk.publishEvents({ streamId: stream.id, events: Array.from({ length: 5 }, (_, i) => ({ host: 'web-1', latency_ms: 100 + i })) });
    await waitForCommitted(h, group, stream.topic, 5);

    const stdout: string[] = [];
    const stderr: string[] = [];
    const io: CliIo = { isTTY: false, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
    const code = await main(['replay', '--url', h.url, '--key', TEST_ADMIN_KEY, '--stream', stream.name, '--from', '1h', '--timeout', '60', '--json'], io);
    expect(stderr.join('\n')).not.toContain('vigil replay:');
    expect(code).toBe(0);
    expect(JSON.parse(stdout.at(-1)!)).toMatchObject({ streamId: stream.id, fromOffsets: { '0': '0' }, caughtUp: true });
    expect(stderr.join('\n')).toMatch(/caught up/);
    // The replay went through the audited mutation.
    const entries = await h.runtime.services.ports.db.auditEntry.findMany({ where: { action: 'replayStream', target: stream.id } });
    expect(entries.map((e) => e.outcome)).toEqual(['ALLOWED']);
  }, 120_000);
});
