import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { applyRetention } from '../../src/workflows/retention.ts';
import { uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, REGISTER_STREAM, startHarness, type Harness } from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const DAY = 24 * 3600 * 1000;

describe('retention', () => {
  it("deletes anomalies, dead letters and resolved incidents older than the stream's retentionDays, and nothing else", async () => {
    const name = uniqueName('ret');
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string; topic: string } }>(REGISTER_STREAM, {
      input: { name, topic: name, schema: LATENCY_SCHEMA, valueFields: ['latency_ms'], partitions: 1, retentionDays: 7 },
    });
    const { registerDetector: detector } = await h.admin.request<{ registerDetector: { id: string } }>(
      `mutation($input: RegisterDetectorInput!) { registerDetector(input: $input) { id } }`,
      { input: { streamId: stream.id, name: 'ceiling', field: 'latency_ms', kind: 'THRESHOLD', params: { max: 1 } } },
    );
    const db = h.runtime.services.ports.db;
    const now = new Date();
    const ago = (days: number) => new Date(now.getTime() - days * DAY);
    const anomaly = (offset: number, detectedAt: Date) => ({
      id: newId('Anomaly'),
      streamId: stream.id,
      detectorId: detector.id,
      detectorVersion: 1,
      field: 'latency_ms',
      value: 5,
      score: 2,
      severity: 'WARNING' as const,
      shadow: false,
      eventTime: detectedAt,
      detectedAt,
      explanation: 'test',
      topic: stream.topic,
      partition: 0,
      offset: BigInt(offset),
      eventTimestamp: detectedAt,
      schemaVersion: 1,
    });
    await db.anomaly.createMany({ data: [anomaly(0, ago(30)), anomaly(1, ago(8)), anomaly(2, ago(6)), anomaly(3, now)] });
    const letter = (offset: number, receivedAt: Date) => ({
      id: newId('DeadLetter'),
      streamId: stream.id,
      topic: stream.topic,
      partition: 0,
      offset: BigInt(offset),
      eventTimestamp: receivedAt,
      reason: 'test',
      payload: '{',
      receivedAt,
    });
    await db.deadLetter.createMany({ data: [letter(10, ago(9)), letter(11, ago(1))] });
    const incident = (status: 'OPEN' | 'RESOLVED', resolvedAt: Date | null, openedAt: Date) => ({
      id: newId('Incident'),
      title: 't',
      status,
      severity: 'WARNING' as const,
      streamId: stream.id,
      groupKey: `${stream.id}/x`,
      openedAt,
      resolvedAt,
    });
    const [oldResolved, recentResolved, oldOpen] = [incident('RESOLVED', ago(8), ago(10)), incident('RESOLVED', ago(2), ago(10)), incident('OPEN', null, ago(40))];
    await db.incident.createMany({ data: [oldResolved, recentResolved, oldOpen] });

    const deleted = await applyRetention(db, now, 1, 100);
    expect(deleted.anomalies).toBeGreaterThanOrEqual(2);
    const offsets = (await db.anomaly.findMany({ where: { streamId: stream.id }, orderBy: { offset: 'asc' } })).map((a) => Number(a.offset));
    expect(offsets).toEqual([2, 3]);
    expect((await db.deadLetter.findMany({ where: { streamId: stream.id } })).map((d) => Number(d.offset))).toEqual([11]);
    const kept = (await db.incident.findMany({ where: { streamId: stream.id } })).map((i) => i.id).sort();
    expect(kept).toEqual([recentResolved.id, oldOpen.id].sort());
  });
});
