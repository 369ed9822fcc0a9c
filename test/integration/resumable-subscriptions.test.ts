import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { CHANNELS } from '../../src/pubsub/pubsub.ts';
import { uniqueName } from '../support/env.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import {
  anomalyRow,
  anomalyTarget,
  ascending,
  Collector,
  commitAnomaly,
  producer,
  subscriptionClient,
  type AnomalyTarget,
  type Transport,
} from '../support/resume.ts';
import { serializeAnomaly } from '../../src/stream/serialize.ts';

/**
 * Anomalies committed while a subscriber is away reach it when it resumes
 * with the cursor of the last one it received, in commit order, then live
 * ones follow, each exactly once, with commits racing the replay. Real
 * graphql-ws and graphql-sse clients, a real gateway, PostgreSQL and Redis.
 */
let h: Harness;
const open: { dispose(): unknown }[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.dispose()));
});
afterAll(async () => {
  await h?.close();
});

const ANOMALIES = /* GraphQL */ `
  subscription($filter: AnomalyFilter, $after: String) { anomalies(filter: $filter, after: $after) { id cursor value stream { id } } }
`;

function client(transport: Transport) {
  const created = subscriptionClient(h, transport, h.secrets.VIEWER);
  open.push(created);
  return created;
}

/**
 * A live subscription's first anomaly, and what was committed after it: one
 * producer commits back to back (so its order is commit order) until the
 * subscription, live once it hears anything, hears one.
 */
async function firstHeard(transport: Transport, target: AnomalyTarget): Promise<{ cursor: string; after: string[] }> {
  const live = new Collector(client(transport), ANOMALIES, { filter: { streamId: target.streamId } });
  const load = producer(() => commitAnomaly(h, target));
  try {
    await live.until(() => live.items.length > 0, 'the first live anomaly');
  } finally {
    await load.stop();
    live.unsubscribe();
  }
  const first = live.items[0]!;
  expect(first.cursor).toEqual(expect.any(String));
  return { cursor: first.cursor!, after: load.committed.slice(load.committed.indexOf(first.id) + 1) };
}

function expectEachOnceInCommitOrder(received: Collector, expected: string[], ...producers: string[][]) {
  const ids = received.ids();
  expect(new Set(ids).size, 'no anomaly twice').toBe(ids.length);
  expect([...ids].sort()).toEqual([...expected].sort());
  expect(ascending(received.items.map((item) => item.cursor)), 'cursors in commit order').toBe(true);
  // A producer commits one anomaly after the other: its anomalies arrive in its order.
  for (const own of producers) expect(ids.filter((id) => own.includes(id))).toEqual(own);
}

describe.each(['graphql-ws', 'graphql-sse'] as const)('anomalies with a cursor over %s', (transport) => {
  it('replays what was committed while away, then goes live, each once, while commits race the replay', async () => {
    const [target, other] = await Promise.all([anomalyTarget(h), anomalyTarget(h)]);
    const { cursor, after: beforeAway } = await firstHeard(transport, target);

    const away: string[] = [];
    for (let i = 0; i < 30; i++) away.push(await commitAnomaly(h, target, 600 + i));

    // Two producers on the stream and one on another start before the subscriber comes back.
    const racing = [producer(() => commitAnomaly(h, target, 700)), producer(() => commitAnomaly(h, target, 800))];
    const noise = producer(() => commitAnomaly(h, other, 999));
    const resumed = new Collector(client(transport), ANOMALIES, { filter: { streamId: target.streamId }, after: cursor });
    const raced = () => racing.flatMap((p) => p.committed);
    try {
      await resumed.until(() => away.every((id) => resumed.ids().includes(id)), 'the replay');
      await resumed.until(() => resumed.ids().filter((id) => raced().includes(id)).length >= 20, 'live anomalies after the replay');
    } finally {
      await Promise.all([...racing.map((p) => p.stop()), noise.stop()]);
    }
    const marker = await commitAnomaly(h, target, 555);
    await resumed.until(() => resumed.ids().includes(marker), 'the marker');

    const expected = [...beforeAway, ...away, ...raced(), marker];
    expectEachOnceInCommitOrder(resumed, expected, beforeAway, away, racing[0]!.committed, racing[1]!.committed);
    expect(resumed.items.every((item) => (item.stream as { id: string }).id === target.streamId)).toBe(true);
    expect(noise.committed.length).toBeGreaterThan(0);
  });
});

describe('anomalies in commit order', () => {
  it('delivers an anomaly whose id is older but whose commit is later, live and on resume after the newer one', async () => {
    const target = await anomalyTarget(h);
    const { db } = h.runtime.services.ports;
    const live = new Collector(client('graphql-ws'), ANOMALIES, { filter: { streamId: target.streamId } });
    const warmUp = producer(() => commitAnomaly(h, target));
    await live.until(() => live.items.length > 0, 'the first live anomaly').finally(() => warmUp.stop());
    const heard = live.items.length;

    // Two partitions' batches: the one with the older id commits last.
    // Ids drawn a millisecond apart: within one millisecond their order would be the random part's.
    const drawnAt = Date.now();
    const early = anomalyRow(target, 901, newId('Anomaly', drawnAt));
    const late = anomalyRow(target, 902, newId('Anomaly', drawnAt + 1));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const holding = new Promise<void>((resolve) => (inserted = resolve));
    const slow = db.$transaction(
      async (tx) => {
        const row = await tx.anomaly.create({ data: early });
        inserted();
        await released;
        return row;
      },
      { timeout: 30_000 },
    );
    await holding;
    const lateRow = await db.anomaly.create({ data: late });
    await h.runtime.services.pubsub.publish(CHANNELS.anomalies, serializeAnomaly(lateRow));
    await live.until(() => live.ids().includes(late.id), 'the later commit');
    release();
    await h.runtime.services.pubsub.publish(CHANNELS.anomalies, serializeAnomaly(await slow));
    await live.until(() => live.ids().includes(early.id), 'the earlier id');
    expect(live.ids().slice(heard).filter((id) => id === early.id || id === late.id)).toEqual([late.id, early.id]);
    expect(early.id < late.id).toBe(true);

    // A subscriber that stopped right after the later commit resumes after its cursor, and gets the other.
    const lateCursor = live.items.find((item) => item.id === late.id)!.cursor;
    const resumed = new Collector(client('graphql-ws'), ANOMALIES, { filter: { streamId: target.streamId }, after: lateCursor });
    const marker = await commitAnomaly(h, target, 556);
    await resumed.until(() => resumed.ids().includes(marker), 'the marker');
    expect(resumed.ids()).toEqual([early.id, marker]);
  });

  it('refuses a cursor it did not give out, with BAD_USER_INPUT on after', async () => {
    const refused = new Collector(client('graphql-ws'), ANOMALIES, { after: Buffer.from('c:ano_x').toString('base64url') });
    await refused.until(() => refused.failures.length > 0, 'the refusal').catch(() => undefined);
    expect(refused.failures).toEqual([
      [expect.objectContaining({ message: expect.stringMatching(/^after: is not the `cursor` of an item/), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })],
    ]);
  });
});

/** Latest state per id of what a subscription received, and how often each id came. */
function lastStates(items: { id: string; status?: unknown }[]): Map<string, unknown> {
  return new Map(items.map((item) => [item.id, item.status]));
}

describe('incidentUpdates with a cursor', () => {
  const INCIDENTS = /* GraphQL */ `
    subscription($filter: IncidentFilter, $after: String) { incidentUpdates(filter: $filter, after: $after) { id status cursor } }
  `;
  const ACKNOWLEDGE = `mutation($id: ID!) { acknowledgeIncident(id: $id) { id } }`;
  const RESOLVE = `mutation($id: ID!) { resolveIncident(id: $id) { id } }`;

  async function openIncident(streamId: string): Promise<string> {
    const incident = await h.runtime.services.ports.db.incident.create({
      data: {
        id: newId('Incident'),
        title: 'test incident',
        severity: 'CRITICAL',
        streamId,
        groupKey: uniqueName('group'),
        anomalyCount: 1,
        timeline: { create: [{ kind: 'OPENED', message: 'opened by the test' }] },
      },
    });
    await h.runtime.services.pubsub.publish(CHANNELS.incidents, { id: incident.id });
    return incident.id;
  }

  it('replays the latest state of every incident changed while away, then live changes, none twice', async () => {
    const { streamId } = await anomalyTarget(h);
    const operator = h.client(h.secrets.OPERATOR);
    const filter = { streamId };

    const live = new Collector(client('graphql-ws'), INCIDENTS, { filter });
    const warmUp = producer(() => openIncident(streamId));
    await live.until(() => live.items.length > 0, 'the first live incident').finally(() => warmUp.stop());
    live.unsubscribe();
    const first = live.items[0]!;
    const openedAfterFirst = warmUp.committed.slice(warmUp.committed.indexOf(first.id) + 1);

    // Away: the first one is acknowledged, new ones open, some change twice.
    await operator.request(ACKNOWLEDGE, { id: first.id });
    const away: string[] = [];
    for (let i = 0; i < 6; i++) away.push(await openIncident(streamId));
    for (const id of away.slice(0, 4)) await operator.request(ACKNOWLEDGE, { id });
    for (const id of away.slice(0, 2)) await operator.request(RESOLVE, { id });

    const racing = producer(async () => {
      const id = await openIncident(streamId);
      await operator.request(ACKNOWLEDGE, { id });
      return id;
    });
    const resumed = new Collector(client('graphql-sse'), INCIDENTS, { filter, after: first.cursor });
    try {
      await resumed.until(() => away.every((id) => resumed.ids().includes(id)), 'the replay');
      await resumed.until(() => resumed.ids().filter((id) => racing.committed.includes(id)).length >= 8, 'live updates');
    } finally {
      await racing.stop();
    }
    const marker = await openIncident(streamId);
    const touched = [first.id, ...openedAfterFirst, ...away, ...racing.committed, marker];
    const final = new Map(
      (await h.runtime.services.ports.db.incident.findMany({ where: { id: { in: touched } } })).map((i) => [i.id, i.status as unknown]),
    );
    await resumed.until(() => resumed.ids().includes(marker) && [...final].every(([id, s]) => lastStates(resumed.items).get(id) === s), 'final states');

    expect(ascending(resumed.items.map((item) => item.cursor)), 'each state once, in commit order').toBe(true);
    expect([...new Set(resumed.ids())].sort()).toEqual([...touched].sort());
    // Changed twice while away: replayed once, as it is now.
    for (const id of away) expect(resumed.ids().filter((seen) => seen === id), id).toHaveLength(1);
    expect(resumed.items.filter((item) => away.slice(0, 2).includes(item.id)).map((item) => item.status)).toEqual(['RESOLVED', 'RESOLVED']);
    expect(resumed.items.find((item) => item.id === first.id)?.status).toBe('ACKNOWLEDGED');
  });
});

describe('executionUpdates with a cursor', () => {
  const EXECUTIONS = /* GraphQL */ `
    subscription($runbookId: ID, $after: String) { executionUpdates(runbookId: $runbookId, after: $after) { id status cursor } }
  `;

  it('replays the latest state of every execution changed while away, then live changes, none twice', async () => {
    const { streamId } = await anomalyTarget(h);
    const { registerRunbook } = await h.admin.request<{ registerRunbook: { id: string } }>(
      `mutation($input: RegisterRunbookInput!) { registerRunbook(input: $input) { id } }`,
      { input: { name: uniqueName('rb'), trigger: { streamId }, steps: [{ action: 'NOTIFY', params: {} }], requiresApproval: true } },
    );
    const runbookId = registerRunbook.id;
    const operator = h.client(h.secrets.OPERATOR);
    const trigger = async () =>
      (await operator.request<{ triggerRunbook: { id: string } }>(`mutation($r: ID!) { triggerRunbook(runbookId: $r) { id } }`, { r: runbookId })).triggerRunbook.id;
    const approve = (id: string) => h.admin.request(`mutation($id: ID!) { approveExecution(id: $id) { id } }`, { id });
    const cancel = (id: string) => operator.request(`mutation($id: ID!) { cancelExecution(id: $id) { id } }`, { id });

    const live = new Collector(client('graphql-sse'), EXECUTIONS, { runbookId });
    const warmUp = producer(trigger);
    await live.until(() => live.items.length > 0, 'the first live execution').finally(() => warmUp.stop());
    live.unsubscribe();
    const first = live.items[0]!;
    const triggeredAfterFirst = warmUp.committed.slice(warmUp.committed.indexOf(first.id) + 1);

    await cancel(first.id);
    const away: string[] = [];
    for (let i = 0; i < 5; i++) away.push(await trigger());
    for (const id of away.slice(0, 3)) await approve(id);
    for (const id of away.slice(0, 2)) await cancel(id);

    const racing = producer(async () => {
      const id = await trigger();
      await cancel(id);
      return id;
    });
    const resumed = new Collector(client('graphql-ws'), EXECUTIONS, { runbookId, after: first.cursor });
    try {
      await resumed.until(() => away.every((id) => resumed.ids().includes(id)), 'the replay');
      await resumed.until(() => resumed.ids().filter((id) => racing.committed.includes(id)).length >= 8, 'live updates');
    } finally {
      await racing.stop();
    }
    const marker = await trigger();
    const touched = [first.id, ...triggeredAfterFirst, ...away, ...racing.committed, marker];
    const final = new Map(
      (await h.runtime.services.ports.db.runbookExecution.findMany({ where: { id: { in: touched } } })).map((e) => [e.id, e.status as unknown]),
    );
    await resumed.until(() => resumed.ids().includes(marker) && [...final].every(([id, s]) => lastStates(resumed.items).get(id) === s), 'final states');

    expect(ascending(resumed.items.map((item) => item.cursor)), 'each state once, in commit order').toBe(true);
    expect([...new Set(resumed.ids())].sort()).toEqual([...touched].sort());
    for (const id of away) expect(resumed.ids().filter((seen) => seen === id), id).toHaveLength(1);
    // In the order of their last change: approved (the third), then cancelled (the first two).
    expect(resumed.items.filter((item) => away.slice(0, 3).includes(item.id)).map((item) => [item.id, item.status])).toEqual([
      [away[2], 'QUEUED'],
      [away[0], 'CANCELLED'],
      [away[1], 'CANCELLED'],
    ]);
    expect(resumed.items.find((item) => item.id === first.id)?.status).toBe('CANCELLED');
  });
});
