import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution } from '../../src/incidents/writer.ts';
import { uniqueName } from '../support/env.ts';
import { graphqlErrors, startHarness, type Harness } from '../support/harness.ts';
import { APPROVE_EXECUTION, registerRunbook, streamWithThreshold, TRIGGER_RUNBOOK, type TestStream } from '../support/runbooks.ts';

/**
 * Four eyes: an execution waiting for approval cannot be approved by the key
 * that requested it, unless its runbook allows self-approval. Keys are
 * compared, not names: a second key with the same display name is another
 * person's key. No runner here: approval only moves the execution to QUEUED.
 */
const prefix = uniqueName('four-eyes');
let h: Harness;
let stream: TestStream;

beforeAll(async () => {
  h = await startHarness();
  stream = await streamWithThreshold(h, prefix);
});
afterAll(async () => {
  await h?.close();
});

interface Approval {
  id: string;
  status: string;
  approvedBy: string | null;
}

async function pendingExecution(requester: string, allowSelfApproval?: boolean): Promise<string> {
  const runbook = await registerRunbook(h, {
    trigger: { streamId: stream.id },
    requiresApproval: true,
    ...(allowSelfApproval === undefined ? {} : { allowSelfApproval }),
    steps: [{ action: 'NOTIFY' }],
  });
  const { triggerRunbook } = await h.client(requester).request<{ triggerRunbook: { id: string; status: string } }>(TRIGGER_RUNBOOK, {
    runbookId: runbook.id,
  });
  expect(triggerRunbook.status).toBe('PENDING_APPROVAL');
  return triggerRunbook.id;
}

const statusOf = async (id: string) => (await h.runtime.services.ports.db.runbookExecution.findUniqueOrThrow({ where: { id } })).status;

describe('approving a runbook execution', () => {
  it('is FORBIDDEN to the key that requested it, by default', async () => {
    const name = uniqueName('oncall');
    const requester = (await h.createKey('OPERATOR', name)).secret;
    const id = await pendingExecution(requester);

    const [error] = await graphqlErrors(h.client(requester).request(APPROVE_EXECUTION, { id }));
    expect(error?.extensions.code).toBe('FORBIDDEN');
    expect(error?.message).toBe('the key that requested this execution cannot approve it; another OPERATOR or ADMIN must');
    expect(await statusOf(id)).toBe('PENDING_APPROVAL');

    // Another key, even one with the same display name, is a second pair of eyes.
    const namesake = (await h.createKey('OPERATOR', name)).secret;
    const { approveExecution } = await h.client(namesake).request<{ approveExecution: Approval }>(APPROVE_EXECUTION, { id });
    expect(approveExecution).toEqual({ id, status: 'QUEUED', approvedBy: name });
  });

  it('is FORBIDDEN to an ADMIN key that requested it, and open to a different OPERATOR', async () => {
    const id = await pendingExecution(h.secrets.ADMIN);
    const [error] = await graphqlErrors(h.admin.request(APPROVE_EXECUTION, { id }));
    expect(error?.extensions.code).toBe('FORBIDDEN');
    const { approveExecution } = await h.client(h.secrets.OPERATOR).request<{ approveExecution: Approval }>(APPROVE_EXECUTION, { id });
    expect(approveExecution.status).toBe('QUEUED');
  });

  it('is open to the requester when the runbook says allowSelfApproval', async () => {
    const requester = (await h.createKey('OPERATOR')).secret;
    const id = await pendingExecution(requester, true);
    const { approveExecution } = await h.client(requester).request<{ approveExecution: Approval }>(APPROVE_EXECUTION, { id });
    expect(approveExecution.status).toBe('QUEUED');
  });

  it('shows allowSelfApproval on the runbook, false unless registered otherwise', async () => {
    const strict = await registerRunbook(h, { trigger: { streamId: stream.id }, steps: [{ action: 'NOTIFY' }] });
    const lenient = await registerRunbook(h, { trigger: { streamId: stream.id }, allowSelfApproval: true, steps: [{ action: 'NOTIFY' }] });
    const { runbooks } = await h.client(h.secrets.VIEWER).request<{ runbooks: { id: string; allowSelfApproval: boolean }[] }>(
      `{ runbooks { id allowSelfApproval } }`,
    );
    const shown = new Map(runbooks.map((r) => [r.id, r.allowSelfApproval]));
    expect([shown.get(strict.id), shown.get(lenient.id)]).toEqual([false, true]);
  });

  it('is open to any OPERATOR for an automatic execution, which no key requested', async () => {
    const runbook = await registerRunbook(h, { trigger: { streamId: stream.id }, requiresApproval: true, steps: [{ action: 'NOTIFY' }] });
    const id = await h.runtime.services.ports.db.$transaction(async (tx) => {
      const row = await tx.runbook.findUniqueOrThrow({ where: { id: runbook.id } });
      return createExecution(tx, row, null, 'vigil (automatic)', new Date());
    });
    const { approveExecution } = await h.client(h.secrets.OPERATOR).request<{ approveExecution: Approval }>(APPROVE_EXECUTION, { id });
    expect(approveExecution.status).toBe('QUEUED');
  });
});
