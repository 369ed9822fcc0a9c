import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { uniqueName } from '../support/env.ts';
import { openTestRuntime } from '../support/harness.ts';

/** The database, not only the API, refuses a runbook that would run for every incident of every stream. */
let runtime: Runtime;

beforeAll(async () => {
  runtime = await openTestRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

describe('a runbook row without a trigger', () => {
  it('is refused by the database, while one naming its stream is accepted', async () => {
    const db = runtime.services.ports.db;
    const name = uniqueName('trigger-check');
    const streamId = newId('Stream');
    // With its schema version, as registerStream makes it: other tests list every stream and read its schema.
    await db.stream.create({
      data: { id: streamId, name, topic: name, valueFields: ['v'], partitions: 1, retentionDays: 1, schemas: { create: { version: 1, schema: { type: 'object' }, createdBy: 'test' } } },
    });
    const row = { name, minSeverity: 'INFO' as const, steps: [], requiresApproval: false, cooldownSeconds: 0 };

    await expect(db.runbook.create({ data: { id: newId('Runbook'), ...row } })).rejects.toThrow(/Runbook_trigger_named/);
    const accepted = await db.runbook.create({ data: { id: newId('Runbook'), ...row, triggerStreamId: streamId } });
    expect(accepted.triggerStreamId).toBe(streamId);
    await expect(db.runbook.update({ where: { id: accepted.id }, data: { triggerStreamId: null } })).rejects.toThrow(/Runbook_trigger_named/);
    // The stream has no topic: gone at once, with its runbook, so no other test meets it.
    await db.stream.delete({ where: { id: streamId } });
  });
});
