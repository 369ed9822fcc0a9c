import { graphql } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { newId } from '../../src/core/ids.ts';
import { createServices } from '../../src/services/container.ts';
import { buildSchema } from '../../src/schema/index.ts';
import type { Context } from '../../src/schema/context.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { openTestRuntime } from '../support/harness.ts';
import { uniqueName } from '../support/env.ts';
import { countingDb, type CountingDb } from '../support/statement-count.ts';

/**
 * Nested lists load in batches (the schema's DataLoaders over
 * services/batch-loads.ts): reading a page of incidents with their timeline,
 * executions and steps, anomalies, stream and detectors costs a fixed number
 * of SQL statements, however many incidents the page holds. The statements
 * are counted on the pg pool under the Prisma client of this file's own
 * services; the query runs in process against the real schema.
 */
const INCIDENTS = 25;
let runtime: Runtime;
let counted: CountingDb;
let db: PrismaClient;
let ctx: Context;
const streamId = newId('Stream');

const NESTED = /* GraphQL */ `
  query Nested($streamId: ID!, $first: Int!) {
    incidents(first: $first, filter: { streamId: $streamId }) {
      edges {
        node {
          id
          stream { name }
          timeline { kind message }
          executions { id status steps { index status } }
          anomalies(first: 2) { edges { node { id score detector { name } } } pageInfo { hasNextPage endCursor } }
        }
      }
    }
  }
`;

beforeAll(async () => {
  runtime = await openTestRuntime();
  counted = countingDb();
  db = counted.db;
  const services = createServices({ ...runtime.services.ports, db });
  ctx = { services, principal: { keyId: 'test', name: 'batching', role: 'VIEWER' }, authError: null, log: services.ports.log, clientAddress: '127.0.0.1', traceparent: null };
  await seed();
});

afterAll(async () => {
  await counted?.close();
  await runtime?.close();
});

/** A stream with a detector and a runbook; each incident has 3 anomalies, 2 timeline entries and an execution of 2 steps. */
async function seed(): Promise<void> {
  const name = uniqueName('batch');
  // With its schema version, as registerStream makes it: other tests list every stream and read its schema.
  await db.stream.create({
    data: { id: streamId, name, topic: name, valueFields: ['v'], partitions: 1, retentionDays: 1, schemas: { create: { version: 1, schema: { type: 'object' }, createdBy: 'test' } } },
  });
  const detectorId = newId('Detector');
  await db.detector.create({ data: { id: detectorId, streamId, name: 'z', field: 'v' } });
  const runbookId = newId('Runbook');
  // Triggered by this stream only: a runbook without a trigger would run for every other test's incidents.
  await db.runbook.create({ data: { id: runbookId, name, triggerStreamId: streamId, minSeverity: 'INFO', steps: [], requiresApproval: false, cooldownSeconds: 0 } });
  const now = Date.now();
  for (let i = 0; i < INCIDENTS; i++) {
    const incidentId = newId('Incident', now + i);
    await db.incident.create({ data: { id: incidentId, title: `incident ${i}`, severity: 'WARNING', streamId, groupKey: `${name}-${i}` } });
    await db.incidentEvent.createMany({
      data: [
        { incidentId, kind: 'OPENED', message: `opened ${i}` },
        { incidentId, kind: 'JOINED', message: `joined ${i}` },
      ],
    });
    await db.anomaly.createMany({
      data: [0, 1, 2].map((n) => ({
        id: newId('Anomaly', now + i * 10 + n),
        streamId,
        detectorId,
        detectorVersion: 1,
        field: 'v',
        value: n,
        score: i + n / 10,
        severity: 'WARNING' as const,
        shadow: false,
        eventTime: new Date(now),
        explanation: 'test',
        topic: name,
        partition: 0,
        offset: BigInt(i * 10 + n),
        eventTimestamp: new Date(now),
        schemaVersion: 1,
        incidentId,
      })),
    });
    const executionId = newId('RunbookExecution', now + i);
    await db.runbookExecution.create({ data: { id: executionId, runbookId, incidentId, status: 'SUCCEEDED', requestedBy: 'test' } });
    await db.stepExecution.createMany({
      data: [0, 1].map((index) => ({ executionId, index, action: 'NOTIFY' as const, params: {}, status: 'SUCCEEDED' as const })),
    });
  }
}

interface NestedResult {
  incidents: {
    edges: {
      node: {
        id: string;
        stream: { name: string };
        timeline: { kind: string; message: string }[];
        executions: { id: string; status: string; steps: { index: number }[] }[];
        anomalies: { edges: { node: { id: string; score: number; detector: { name: string } } }[]; pageInfo: { hasNextPage: boolean } };
      };
    }[];
  };
}

async function countedRun(first: number): Promise<{ data: NestedResult; statements: number }> {
  counted.reset();
  const result = await graphql({ schema: buildSchema(), source: NESTED, variableValues: { streamId, first }, contextValue: { ...ctx } });
  expect(result.errors).toBeUndefined();
  return { data: result.data as unknown as NestedResult, statements: counted.statements };
}

describe('nested lists load in batches', () => {
  it(`reads ${INCIDENTS} incidents with timeline, executions and steps, anomalies, stream and detectors in at most 10 statements`, async () => {
    const { data, statements: count } = await countedRun(100);
    expect(data.incidents.edges).toHaveLength(INCIDENTS);
    expect(count).toBeLessThanOrEqual(10);
  });

  it('costs the same for a page of 2 as for a page of 25: the count does not grow with the parents', async () => {
    const small = await countedRun(2);
    const large = await countedRun(100);
    expect(small.data.incidents.edges).toHaveLength(2);
    expect(large.statements).toBe(small.statements);
  });

  it('gives each incident its own rows, with each page cut per incident', async () => {
    const { data } = await countedRun(100);
    for (const { node } of data.incidents.edges) {
      const i = Number(/(\d+)$/.exec(node.timeline[0]!.message)![1]);
      expect(node.timeline.map((e) => e.message)).toEqual([`opened ${i}`, `joined ${i}`]);
      expect(node.executions).toHaveLength(1);
      expect(node.executions[0]!.steps.map((s) => s.index)).toEqual([0, 1]);
      // Three anomalies, a page of two, oldest first.
      expect(node.anomalies.edges.map((e) => e.node.score)).toEqual([i, i + 0.1]);
      expect(node.anomalies.pageInfo.hasNextPage).toBe(true);
      expect(node.anomalies.edges[0]!.node.detector.name).toBe('z');
    }
  });

  it('pages anomalies after a cursor for every incident of the batch', async () => {
    const first = await countedRun(100);
    const cursor = first.data.incidents.edges[0]!.node.anomalies.edges[0]!.node.id;
    const result = await graphql({
      schema: buildSchema(),
      source: /* GraphQL */ `
        query Next($streamId: ID!, $after: String!) {
          incidents(first: 100, filter: { streamId: $streamId }, orderBy: OLDEST_FIRST) {
            edges { node { page: anomalies(first: 5, after: $after) { edges { node { score } } pageInfo { hasNextPage hasPreviousPage } } } }
          }
        }
      `,
      variableValues: { streamId, after: Buffer.from(`c:${cursor}`).toString('base64url') },
      contextValue: { ...ctx },
    });
    expect(result.errors).toBeUndefined();
    const pages = (result.data as { incidents: { edges: { node: { page: { edges: { node: { score: number } }[]; pageInfo: { hasNextPage: boolean } } } }[] } })
      .incidents.edges.map((e) => e.node.page);
    // The cursor is the first anomaly of the newest incident; ids are time-ordered, so only that incident's later ones follow it.
    expect(pages.filter((p) => p.edges.length > 0)).toHaveLength(1);
    expect(pages.every((p) => !p.pageInfo.hasNextPage)).toBe(true);
  });

  it('reads a page of streams with their detectors (versions, stats), SLAs and health, archived ones too, in the same statements for 1 stream as for 50', async () => {
    const STREAMS = /* GraphQL */ `
      query Streams($first: Int!) {
        streams(first: $first) {
          edges { node { id detectors { name versions { version } stats { anomalies precision } } all: detectors(includeArchived: true) { name } slas { name } health { deadLetters } } }
        }
      }
    `;
    const run = async (first: number) => {
      counted.reset();
      const result = await graphql({ schema: buildSchema(), source: STREAMS, variableValues: { first }, contextValue: { ...ctx } });
      expect(result.errors).toBeUndefined();
      type Listed = { id: string; detectors: { name: string; versions: unknown[]; stats: { anomalies: number; precision: number | null } }[]; all: { name: string }[]; slas: unknown[] };
      const streams = (result.data as { streams: { edges: { node: Listed }[] } }).streams.edges;
      return { streams, statements: counted.statements };
    };
    // More streams, each with a detector of its own (with their schema version, as registerStream makes them).
    const fresh = [0, 1, 2].map((i) => ({ id: newId('Stream'), name: uniqueName(`batch-s${i}`), detector: uniqueName(`batch-d${i}`) }));
    for (const stream of fresh) {
      await db.stream.create({
        data: { id: stream.id, name: stream.name, topic: stream.name, valueFields: ['v'], partitions: 1, retentionDays: 1, schemas: { create: { version: 1, schema: { type: 'object' }, createdBy: 'test' } } },
      });
      await db.detector.create({ data: { id: newId('Detector'), streamId: stream.id, name: stream.detector, field: 'v' } });
    }
    const one = await run(1);
    const many = await run(50);
    expect(one.streams).toHaveLength(1);
    expect(many.streams.length).toBeGreaterThan(3);
    expect(many.statements).toBe(one.statements);

    // Each stream gets its own rows (read by id: the shared database may list other tests' streams first).
    const ids = [streamId, ...fresh.map((f) => f.id)];
    const fields = 'detectors { name versions { version } stats { anomalies precision } } all: detectors(includeArchived: true) { name } slas { name }';
    const byId = await graphql({
      schema: buildSchema(),
      source: `query(${ids.map((_, i) => `$s${i}: ID`).join(', ')}) { ${ids.map((_, i) => `s${i}: stream(id: $s${i}) { ${fields} }`).join(' ')} }`,
      variableValues: Object.fromEntries(ids.map((id, i) => [`s${i}`, id])),
      contextValue: { ...ctx },
    });
    expect(byId.errors).toBeUndefined();
    type Read = { detectors: { name: string; versions: unknown[]; stats: { anomalies: number; precision: number | null } }[]; all: { name: string }[]; slas: unknown[] };
    const read = ids.map((_, i) => (byId.data as Record<string, Read>)[`s${i}`]!);
    // The seeded stream: its detector under both aliases, 3 anomalies for each of the 25 incidents, none labelled, no versions seeded.
    expect(read[0]!.detectors.map((d) => d.name)).toEqual(['z']);
    expect(read[0]!.all.map((d) => d.name)).toEqual(['z']);
    expect(read[0]!.slas).toEqual([]);
    expect(read[0]!.detectors[0]!.stats).toEqual({ anomalies: INCIDENTS * 3, precision: null });
    expect(read[0]!.detectors[0]!.versions).toEqual([]);
    fresh.forEach((stream, i) => {
      expect(read[i + 1]!.detectors.map((d) => [d.name, d.stats.anomalies])).toEqual([[stream.detector, 0]]);
    });
  });

  it("reads every runbook's page of executions in the same statements however many runbooks there are, each page its own", async () => {
    const RUNBOOKS = /* GraphQL */ `{ runbooks { id executions(first: 2) { edges { node { id } } pageInfo { hasNextPage } } } }`;
    const run = async () => {
      counted.reset();
      const result = await graphql({ schema: buildSchema(), source: RUNBOOKS, contextValue: { ...ctx } });
      expect(result.errors).toBeUndefined();
      return { runbooks: (result.data as { runbooks: { id: string }[] }).runbooks, statements: counted.statements };
    };
    const before = await run();
    // Two more runbooks (triggered by this stream only), an execution each.
    const seeded = (await db.runbook.findFirstOrThrow({ where: { triggerStreamId: streamId } })).id;
    for (let i = 0; i < 2; i++) {
      const id = newId('Runbook');
      await db.runbook.create({ data: { id, name: uniqueName('batch-rb'), triggerStreamId: streamId, minSeverity: 'INFO', steps: [], requiresApproval: false, cooldownSeconds: 0 } });
      await db.runbookExecution.create({ data: { id: newId('RunbookExecution'), runbookId: id, status: 'SUCCEEDED', requestedBy: 'test' } });
    }
    const after = await run();
    expect(after.runbooks.length).toBeGreaterThanOrEqual(before.runbooks.length + 2);
    expect(after.statements).toBe(before.statements);

    // The seeded runbook has 25 executions, ids in the order they were made: pages in both orders, and after a cursor.
    const PAGES = /* GraphQL */ `
      query($id: ID!, $after: String) {
        node(id: $id) { ... on Runbook {
          newest: executions(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage } }
          oldest: executions(first: 1, orderBy: OLDEST_FIRST, after: $after) { edges { cursor node { id } } }
        } }
      }`;
    type Page = { edges: { cursor: string; node: { id: string } }[]; pageInfo?: { hasNextPage: boolean } };
    const pages = async (cursor?: string) => {
      const result = await graphql({ schema: buildSchema(), source: PAGES, variableValues: { id: seeded, after: cursor }, contextValue: { ...ctx } });
      expect(result.errors).toBeUndefined();
      return (result.data as { node: { newest: Page; oldest: Page } }).node;
    };
    const all = (await db.runbookExecution.findMany({ where: { runbookId: seeded }, orderBy: { id: 'asc' } })).map((e) => e.id);
    expect(all).toHaveLength(INCIDENTS);
    const first = await pages();
    expect(first.newest.edges.map((e) => e.node.id)).toEqual([all[INCIDENTS - 1], all[INCIDENTS - 2]]);
    expect(first.newest.pageInfo?.hasNextPage).toBe(true);
    expect(first.oldest.edges.map((e) => e.node.id)).toEqual([all[0]]);
    const second = await pages(first.oldest.edges[0]!.cursor);
    expect(second.oldest.edges.map((e) => e.node.id)).toEqual([all[1]]);
  });
});
