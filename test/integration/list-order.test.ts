import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigilClient, vigilErrors, type AuditLogFilter, type ListOrder, type VigilClient } from '../../sdk/index.ts';
import { newId } from '../../src/core/ids.ts';
import { TEST_ADMIN_KEY, uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, startHarness, type Harness } from '../support/harness.ts';

/**
 * Lists that keep growing read newest first by default, OLDEST_FIRST on
 * request, and a cursor walks either order without a gap or a repeat; the
 * audit log narrows by actor, actions, target, outcome and time. Through the
 * typed SDK. Anomalies, incidents and dead letters are written straight to
 * the database (the worker makes them; how does not matter to a list).
 */
let h: Harness;
let admin: VigilClient;
const prefix = uniqueName('order');
let stream: { id: string; topic: string };
const anomalyIds: string[] = [];
const incidentIds: string[] = [];
const deadLetterIds: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  admin = createVigilClient(h.url, TEST_ADMIN_KEY);
  const { registerStream } = await admin.registerStream({
    input: { name: prefix, topic: prefix, schema: LATENCY_SCHEMA, keyField: 'host', valueFields: ['latency_ms'], partitions: 1 },
  });
  stream = registerStream;
  const { registerDetector: detector } = await admin.registerDetector({
    input: { streamId: stream.id, name: 'ceiling', field: 'latency_ms', kind: 'THRESHOLD', params: { max: 500 } },
  });
  const db = h.runtime.services.ports.db;
  // Ids are time-ordered: made one after another, each sorts after the one before.
  for (let i = 0; i < 5; i++) {
    const now = new Date();
    incidentIds.push(newId('Incident'));
    await db.incident.create({ data: { id: incidentIds[i]!, title: `${prefix} ${i}`, severity: 'WARNING', streamId: stream.id, groupKey: `${prefix}-${i}` } });
    anomalyIds.push(newId('Anomaly'));
    await db.anomaly.create({
      data: {
        id: anomalyIds[i]!, streamId: stream.id, detectorId: detector.id, detectorVersion: 1, seriesKey: 'web-1', field: 'latency_ms', value: 900 + i,
        score: 1.8, upper: 500, severity: 'WARNING', shadow: false, eventTime: now, explanation: 'above 500', topic: stream.topic, partition: 0,
        offset: BigInt(i), eventTimestamp: now, schemaVersion: 1,
      },
    });
    deadLetterIds.push(newId('DeadLetter'));
    await db.deadLetter.create({
      data: { id: deadLetterIds[i]!, streamId: stream.id, topic: stream.topic, partition: 0, offset: BigInt(i), eventTimestamp: now, reason: 'not JSON', payload: 'x' },
    });
  }
});
afterAll(async () => {
  await h?.close();
});

type Page = { edges: { node: { id: string } }[]; pageInfo: { endCursor?: string | null; hasNextPage: boolean } };

/** Every id of a list, two at a time through the cursor. */
async function walk(read: (after: string | undefined) => Promise<Page>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await read(after);
    ids.push(...page.edges.map((e) => e.node.id));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor!;
  }
}

const LISTS: Record<string, (orderBy: ListOrder | undefined, after: string | undefined) => Promise<Page>> = {
  anomalies: async (orderBy, after) => (await admin.anomalies({ filter: { streamId: stream.id }, first: 2, after, orderBy })).anomalies,
  incidents: async (orderBy, after) => (await admin.incidents({ filter: { streamId: stream.id }, first: 2, after, orderBy })).incidents,
  deadLetters: async (orderBy, after) => (await admin.deadLetters({ streamId: stream.id, first: 2, after, orderBy })).deadLetters,
};
const made = (): Record<string, string[]> => ({ anomalies: anomalyIds, incidents: incidentIds, deadLetters: deadLetterIds });

describe('list order', () => {
  it.each(Object.keys(LISTS))('%s: newest first by default and with NEWEST_FIRST, oldest first with OLDEST_FIRST, the cursor valid in both', async (list) => {
    const read = LISTS[list]!;
    const ids = made()[list]!;
    expect(await walk((after) => read(undefined, after))).toEqual([...ids].reverse());
    expect(await walk((after) => read('NEWEST_FIRST', after))).toEqual([...ids].reverse());
    expect(await walk((after) => read('OLDEST_FIRST', after))).toEqual(ids);
  });

  it('executions: newest first by default, oldest first on request', async () => {
    const { registerRunbook: runbook } = await admin.registerRunbook({ input: { name: `${prefix}-rb`, trigger: { streamId: stream.id }, steps: [{ action: 'NOTIFY' }] } });
    const triggered: string[] = [];
    for (let i = 0; i < 3; i++) triggered.push((await admin.triggerRunbook({ runbookId: runbook.id })).triggerRunbook.id);
    // Other tests write executions too: check the order of the whole first page, and that ours are in it in order.
    const newest = (await admin.executions({ first: 100 })).executions.edges.map((e) => e.node.id);
    expect(newest).toEqual([...newest].sort().reverse());
    expect(newest.filter((id) => triggered.includes(id))).toEqual([...triggered].reverse());
    const oldest = (await admin.executions({ first: 100, orderBy: 'OLDEST_FIRST' })).executions.edges.map((e) => e.node.id);
    expect(oldest).toEqual([...oldest].sort());
  });
});

describe('auditLog filters', () => {
  it('by actor, actions, target, outcome and time range; each alone and together', async () => {
    const name = `${prefix}-auditor`;
    const { secret, id: keyId } = await h.createKey('ADMIN', name);
    const auditor = createVigilClient(h.url, secret);
    const since = new Date().toISOString();
    await auditor.pauseStream({ id: stream.id });
    await auditor.resumeStream({ id: stream.id });
    await auditor.updateStream({ id: stream.id, input: { description: 'audited' } });
    await auditor.updateStream({ id: stream.id, input: { partitions: 0 } }).catch(() => undefined);
    const until = new Date(Date.now() + 1).toISOString();

    const actions = async (filter: AuditLogFilter, orderBy?: ListOrder) =>
      (await admin.auditLog({ filter, first: 50, orderBy })).auditLog.edges.map(({ node }) => `${node.action} ${node.outcome}`);
    const actor = `${name} (${keyId})`;
    const byActor = await admin.auditLog({ filter: { actor }, first: 50 });
    // The actor as entries name it; if the format differs, the entries themselves say how.
    expect(byActor.auditLog.edges.map((e) => e.node.actor)).toEqual(Array(4).fill(actor));
    expect(await actions({ actor })).toEqual(['updateStream FAILED', 'updateStream ALLOWED', 'resumeStream ALLOWED', 'pauseStream ALLOWED']);
    expect(await actions({ actor }, 'OLDEST_FIRST')).toEqual(['pauseStream ALLOWED', 'resumeStream ALLOWED', 'updateStream ALLOWED', 'updateStream FAILED']);
    expect(await actions({ actor, actions: ['pauseStream', 'resumeStream'] })).toEqual(['resumeStream ALLOWED', 'pauseStream ALLOWED']);
    expect(await actions({ actor, outcome: 'FAILED' })).toEqual(['updateStream FAILED']);
    expect(await actions({ target: stream.id, actions: ['updateStream'], outcome: 'ALLOWED', since, until })).toEqual(['updateStream ALLOWED']);
    expect(await actions({ actor, until: since })).toEqual([]);
    expect(await actions({ actor, since: until })).toEqual([]);
  });

  it('refuses a bad filter with BAD_USER_INPUT naming the part', async () => {
    const fieldOf = async (filter: AuditLogFilter) => {
      try {
        await admin.auditLog({ filter, first: 1 });
      } catch (error) {
        const [first] = vigilErrors(error);
        return `${first?.code} ${first?.field}`;
      }
      return 'accepted';
    };
    expect(await fieldOf({ actor: '' })).toBe('BAD_USER_INPUT filter.actor');
    expect(await fieldOf({ target: 'x'.repeat(501) })).toBe('BAD_USER_INPUT filter.target');
    expect(await fieldOf({ actions: [] })).toBe('BAD_USER_INPUT filter.actions');
    expect(await fieldOf({ actions: ['pauseStream', ''] })).toBe('BAD_USER_INPUT filter.actions[1]');
    const now = new Date().toISOString();
    expect(await fieldOf({ since: now, until: now })).toBe('BAD_USER_INPUT filter.until');
    expect(await fieldOf({ actions: ['pauseStream'] })).toBe('accepted');
  });
});
