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
  it("deletes anomalies, dead letters, resolved incidents and ended silences older than the stream's retentionDays, and nothing else", async () => {
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
    const silence = (endsAt: Date) => ({ id: newId('Silence'), streamId: stream.id, startsAt: new Date(endsAt.getTime() - DAY), endsAt, reason: 'drill', createdBy: 'test' });
    const [oldSilence, recentSilence] = [silence(ago(8)), silence(ago(2))];
    await db.silence.createMany({ data: [oldSilence, recentSilence] });
    // A recent anomaly that names the old silence keeps itself, and loses the name with the silence.
    await db.anomaly.update({ where: { detectorId_detectorVersion_topic_partition_offset: { detectorId: detector.id, detectorVersion: 1, topic: stream.topic, partition: 0, offset: 3n } }, data: { silenceId: oldSilence.id } });

    const deleted = await applyRetention(db, now, 1, 100);
    expect(deleted.anomalies).toBeGreaterThanOrEqual(2);
    const offsets = (await db.anomaly.findMany({ where: { streamId: stream.id }, orderBy: { offset: 'asc' } })).map((a) => Number(a.offset));
    expect(offsets).toEqual([2, 3]);
    expect((await db.deadLetter.findMany({ where: { streamId: stream.id } })).map((d) => Number(d.offset))).toEqual([11]);
    const kept = (await db.incident.findMany({ where: { streamId: stream.id } })).map((i) => i.id).sort();
    expect(kept).toEqual([recentResolved.id, oldOpen.id].sort());
    expect((await db.silence.findMany({ where: { streamId: stream.id } })).map((x) => x.id)).toEqual([recentSilence.id]);
    expect((await db.anomaly.findMany({ where: { streamId: stream.id }, orderBy: { offset: 'asc' } })).map((a) => a.silenceId)).toEqual([null, null]);
  });

  it('prunes the commit positions nothing points at any longer, and keeps the rest and the newest', async () => {
    const name = uniqueName('ret-pos');
    const { registerStream: stream } = await h.admin.request<{ registerStream: { id: string } }>(REGISTER_STREAM, {
      input: { name, topic: name, schema: LATENCY_SCHEMA, valueFields: ['latency_ms'], partitions: 1 },
    });
    const db = h.runtime.services.ports.db;
    const id = newId('Incident');
    const xidOf = async () => (await db.$queryRaw<{ xid: string }[]>`SELECT "changeXid"::text AS "xid" FROM "Incident" WHERE "id" = ${id}`)[0]!.xid;
    const positionExists = async (xid: string) =>
      (await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS "n" FROM "ChangeCommit" WHERE "xid" = ${xid}::xid8`)[0]!.n === 1;
    // Three transactions change one incident: the first two positions are left behind by the next change.
    await db.incident.create({ data: { id, title: 'positions', status: 'OPEN', severity: 'WARNING', streamId: stream.id, groupKey: `${stream.id}/p` } });
    const created = await xidOf();
    await db.incident.update({ where: { id }, data: { title: 'positions, again' } });
    const updated = await xidOf();
    await db.incident.update({ where: { id }, data: { severity: 'CRITICAL' } });
    const current = await xidOf();
    for (const xid of [created, updated, current]) expect(await positionExists(xid)).toBe(true);

    const deleted = await applyRetention(db, new Date());
    expect(deleted.changeCommits).toBeGreaterThanOrEqual(2);
    expect(await positionExists(created)).toBe(false);
    expect(await positionExists(updated)).toBe(false);
    // Still pointed at by the incident (and the newest position is never pruned).
    expect(await positionExists(current)).toBe(true);
    const [newest] = await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS "n" FROM "ChangeCommit" WHERE "seq" = (SELECT max("seq") FROM "ChangeCommit")`;
    expect(newest!.n).toBe(1);
  });
});
