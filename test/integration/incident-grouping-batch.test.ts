import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly, PrismaClient } from '../../src/generated/prisma/client.ts';
import { newId } from '../../src/core/ids.ts';
import { DEFAULT_INCIDENT_POLICY, type IncidentPolicy } from '../../src/incidents/policy.ts';
import { groupAnomalies } from '../../src/incidents/writer.ts';
import { uniqueName } from '../support/env.ts';
import { countingDb, type CountingDb } from '../support/statement-count.ts';
import { openTestRuntime } from '../support/harness.ts';
import type { Runtime } from '../../src/app/runtime.ts';

/**
 * Grouping a batch of anomalies costs a number of SQL statements that does
 * not grow with the anomalies (an incident storm is one batch of many), and
 * decides each anomaly on what the ones before it in the batch did. The
 * statements are counted on the pg pool under a Prisma client of this file's
 * own, against the real database.
 */
let runtime: Runtime;
let counted: CountingDb;
let db: PrismaClient;

beforeAll(async () => {
  runtime = await openTestRuntime();
  counted = countingDb();
  db = counted.db;
});

afterAll(async () => {
  await counted?.close();
  await runtime?.close();
});

const base = Date.parse('2026-12-01T08:00:00Z');

async function setUp(policy: Partial<IncidentPolicy> = {}, runbook = false) {
  const name = uniqueName('grp');
  const streamId = newId('Stream');
  await db.stream.create({
    data: { id: streamId, name, topic: name, valueFields: ['v'], partitions: 1, retentionDays: 1, schemas: { create: { version: 1, schema: { type: 'object' }, createdBy: 'test' } } },
  });
  const detectorId = newId('Detector');
  await db.detector.create({ data: { id: detectorId, streamId, name: 'ceiling', field: 'v' } });
  if (runbook) {
    await db.runbook.create({
      data: { id: newId('Runbook'), name, triggerStreamId: streamId, minSeverity: 'INFO', steps: [], requiresApproval: false, cooldownSeconds: 0 },
    });
  }
  let offset = 0n;
  /** Records anomalies at these event times (seconds from base, on series `a` unless named), then groups them in one transaction. */
  async function batch(points: { at: number; series?: string }[]): Promise<number> {
    const anomalies: Anomaly[] = await db.anomaly.createManyAndReturn({
      data: points.map((p) => ({
        id: newId('Anomaly'),
        streamId,
        detectorId,
        detectorVersion: 1,
        seriesKey: p.series ?? 'a',
        field: 'v',
        value: 2000,
        score: 9,
        severity: 'WARNING' as const,
        shadow: false,
        eventTime: new Date(base + p.at * 1000),
        explanation: `v at ${p.at}`,
        topic: name,
        partition: 0,
        offset: offset++,
        eventTimestamp: new Date(base + p.at * 1000),
        schemaVersion: 1,
      })),
    });
    const context = {
      policyOf: () => ({ ...DEFAULT_INCIDENT_POLICY, ...policy }),
      describe: () => ({ stream: name, detector: 'ceiling' }),
      describeDetector: () => ({ streamId, streamName: name, detectorName: 'ceiling' }),
      now: new Date(),
    };
    counted.reset();
    await db.$transaction((tx) => groupAnomalies(tx, anomalies, context));
    return counted.statements;
  }
  async function incidents() {
    return db.incident.findMany({
      where: { streamId },
      orderBy: { lastAnomalyAt: 'asc' },
      include: { timeline: { orderBy: { id: 'asc' } }, _count: { select: { anomalies: true } } },
    });
  }
  return { batch, incidents };
}

describe('grouping a batch of anomalies', () => {
  it('joins forty anomalies in as many statements as one', async () => {
    const { batch, incidents } = await setUp();
    await batch([{ at: 0 }]);
    const one = await batch([{ at: 1 }]);
    const forty = await batch(Array.from({ length: 40 }, (_, i) => ({ at: 2 + i })));
    expect(forty).toBe(one);
    // BEGIN, the groups' locks, their heads, every write in one statement, COMMIT.
    expect(one).toBe(5);
    const [incident, ...others] = await incidents();
    expect(others).toEqual([]);
    expect(incident).toMatchObject({ anomalyCount: 42, lastAnomalyAt: new Date(base + 41_000), _count: { anomalies: 42 } });
    expect(incident!.timeline.map((t) => t.message)).toEqual(['opened by v at 0', ...Array.from({ length: 41 }, (_, i) => `v at ${i + 1}`)]);
  });

  it('opens, then joins, one incident per series in as many statements as one', async () => {
    const { batch, incidents } = await setUp({ groupBy: 'SERIES' });
    const one = await batch([{ at: 0, series: 's0' }]);
    const ten = await batch(Array.from({ length: 10 }, (_, i) => ({ at: 1, series: `s${i + 1}` })));
    expect(ten).toBe(one);
    const joinOne = await batch([{ at: 2, series: 's0' }]);
    const joinTen = await batch(Array.from({ length: 10 }, (_, i) => ({ at: 3, series: `s${i + 1}` })));
    expect(joinTen).toBe(joinOne);
    const opened = await incidents();
    expect(opened).toHaveLength(11);
    expect(opened.every((i) => i.anomalyCount === 2 && i._count.anomalies === 2)).toBe(true);
  });

  it('decides each anomaly on what the earlier ones in the batch did', async () => {
    const { batch, incidents } = await setUp({ correlationWindowSeconds: 60 });
    // Out of order on purpose: grouping goes by event time.
    await batch([{ at: 100 }, { at: 0 }, { at: 10 }, { at: 110 }]);
    await batch([{ at: 120 }]);
    const [first, second] = await incidents();
    expect(first).toMatchObject({ anomalyCount: 2, lastAnomalyAt: new Date(base + 10_000), _count: { anomalies: 2 } });
    expect(second).toMatchObject({ anomalyCount: 3, lastAnomalyAt: new Date(base + 120_000), _count: { anomalies: 3 } });
    expect(second!.timeline.map((t) => t.kind)).toEqual(['OPENED', 'ANOMALY_JOINED', 'ANOMALY_JOINED']);
  });

  it('plans a runbook for an opening before the anomalies that join it', async () => {
    const { batch, incidents } = await setUp({}, true);
    await batch([{ at: 0 }, { at: 1 }, { at: 2 }]);
    const [incident] = await incidents();
    expect(incident!.timeline.map((t) => t.kind)).toEqual(['OPENED', 'RUNBOOK_QUEUED', 'ANOMALY_JOINED', 'ANOMALY_JOINED']);
    expect(await db.runbookExecution.count({ where: { incidentId: incident!.id } })).toBe(1);
  });
});
