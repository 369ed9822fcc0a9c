import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/core/paths.ts';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS, TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { startHarness, startTestWorker, type Harness, type TestWorker } from '../support/harness.ts';

/**
 * The README's walkthrough, run as a newcomer would paste it: every `sh`
 * block between the walkthrough markers, in one bash, against a test gateway
 * and a worker with the runbook side. If the README drifts from the API,
 * this fails.
 */
function walkthroughScript(): string {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = /<!-- walkthrough -->([\s\S]*?)<!-- \/walkthrough -->/.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no <!-- walkthrough --> section');
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThanOrEqual(4);
  return blocks.join('\n');
}

function runBash(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const group = uniqueName('walkthrough-group');
let h: Harness;
let worker: TestWorker;

beforeAll(async () => {
  h = await startHarness({ consumerGroup: group });
  // The walkthrough names its stream walkthrough-<shell pid>.
  worker = await startTestWorker(h, { streams: ['walkthrough-*'], group, workflows: { stepBackoffMs: 100, incidentSweepMs: 500 } });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

describe("the README's walkthrough", () => {
  it('runs as written: a key, a stream, a detector, a runbook, events, an explained anomaly, its incident, the runbook run and a postmortem', async () => {
    const result = await runBash(walkthroughScript(), {
      VIGIL_URL: h.url,
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      LOG_LEVEL: 'warn',
    });
    expect(result.stderr).not.toMatch(/"extensions"/);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('"accepted": 61');
    expect(result.stdout).toMatch(/"explanation": "[^"]+"/);
    expect(result.stdout).toContain('"status": "RESOLVED"');
    expect(result.stdout).toMatch(/^# /m);
  }, 120_000);
});
