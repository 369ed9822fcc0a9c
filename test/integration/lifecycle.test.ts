import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigilClient, vigilErrors, type VigilClient, type VigilError } from '../../sdk/index.ts';
import { newId } from '../../src/core/ids.ts';
import { TEST_ADMIN_KEY, uniqueName } from '../support/env.ts';
import { LATENCY_SCHEMA, startHarness, type Harness } from '../support/harness.ts';

/**
 * The lifecycle API through the typed SDK, as a user's automation calls it:
 * updateStream, updateSla, updateRunbook; archive and restore of streams,
 * detectors, SLAs and runbooks (default lists leave archived ones out,
 * history stays, audit entries for all); BAD_USER_INPUT naming the field.
 */
let h: Harness;
let sdk: VigilClient;
const prefix = uniqueName('lifecycle');
let n = 0;
const fresh = (what: string) => `${prefix}-${what}-${++n}`;

beforeAll(async () => {
  h = await startHarness();
  sdk = createVigilClient(h.url, TEST_ADMIN_KEY);
});
afterAll(async () => {
  await h?.close();
});

/** The errors a call failed with; fails the test when it succeeded. */
async function refused(call: Promise<unknown>): Promise<VigilError[]> {
  try {
    await call;
  } catch (error) {
    const errors = vigilErrors(error);
    if (errors.length > 0) return errors;
    throw error;
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

async function badInput(call: Promise<unknown>): Promise<string | undefined> {
  const errors = await refused(call);
  expect(errors.map((e) => e.code)).toEqual(['BAD_USER_INPUT']);
  return errors[0]!.field;
}

async function newStream(partitions = 1) {
  const name = fresh('s');
  const { registerStream } = await sdk.registerStream({
    input: { name, topic: name, schema: LATENCY_SCHEMA, keyField: 'host', timestampField: 'at', valueFields: ['latency_ms', 'errors'], partitions },
  });
  return registerStream;
}

async function newDetector(streamId: string) {
  const { registerDetector } = await sdk.registerDetector({
    input: { streamId, name: fresh('d'), field: 'latency_ms', kind: 'THRESHOLD', params: { max: 500 } },
  });
  return registerDetector;
}

async function newRunbook(streamId: string) {
  const { registerRunbook } = await sdk.registerRunbook({ input: { name: fresh('rb'), trigger: { streamId }, steps: [{ action: 'NOTIFY' }], cooldownSeconds: 60 } });
  return registerRunbook;
}

/** What the audit log says of one target, oldest first. */
async function auditOf(target: string) {
  const { auditLog } = await sdk.auditLog({ filter: { target }, orderBy: 'OLDEST_FIRST', first: 50 });
  return auditLog.edges.map(({ node }) => `${node.action} ${node.outcome}`);
}

describe('updateStream', () => {
  it('changes the description and retention, and grows the topic', async () => {
    const stream = await newStream(2);
    const { updateStream } = await sdk.updateStream({ id: stream.id, input: { description: 'checkout latency, team payments', retentionDays: 14, partitions: 3 } });
    expect(updateStream).toMatchObject({ description: 'checkout latency, team payments', retentionDays: 14, partitions: 3 });
    expect(await h.runtime.services.ports.kafka.partitionCount(stream.topic)).toBe(3);
    const { updateStream: again } = await sdk.updateStream({ id: stream.id, input: { retentionDays: 30 } });
    expect(again).toMatchObject({ description: 'checkout latency, team payments', retentionDays: 30, partitions: 3 });
    expect(await auditOf(stream.id)).toEqual(['registerStream ALLOWED', 'updateStream ALLOWED', 'updateStream ALLOWED']);
  });

  it('refuses bad input, naming the field', async () => {
    const stream = await newStream(2);
    expect(await badInput(sdk.updateStream({ id: stream.id, input: { partitions: 1 } }))).toBe('input.partitions');
    expect(await badInput(sdk.updateStream({ id: stream.id, input: { partitions: 1001 } }))).toBe('input.partitions');
    expect(await badInput(sdk.updateStream({ id: stream.id, input: { retentionDays: 0 } }))).toBe('input.retentionDays');
    expect(await badInput(sdk.updateStream({ id: stream.id, input: { description: 'x'.repeat(2001) } }))).toBe('input.description');
    expect(await badInput(sdk.updateStream({ id: stream.id, input: {} }))).toBe('input');
    expect((await refused(sdk.updateStream({ id: newId('Stream'), input: { retentionDays: 3 } })))[0]).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    // Nothing changed, and every refusal is audited as FAILED.
    expect(await h.runtime.services.ports.kafka.partitionCount(stream.topic)).toBe(2);
    expect((await auditOf(stream.id)).filter((e) => e === 'updateStream FAILED')).toHaveLength(5);
  });
});

describe('updateSla', () => {
  it('changes name, threshold, window and severity; the companion detector of a FRESHNESS SLA is renamed with it', async () => {
    const stream = await newStream();
    const { registerSla: sla } = await sdk.registerSla({ input: { streamId: stream.id, name: fresh('fresh'), objective: 'FRESHNESS', threshold: 60, windowSeconds: 300 } });
    const name = fresh('fresh-renamed');
    const { updateSla } = await sdk.updateSla({ id: sla.id, input: { name, threshold: 120, windowSeconds: 600, severity: 'CRITICAL' } });
    expect(updateSla).toMatchObject({ id: sla.id, name, threshold: 120, windowSeconds: 600, severity: 'CRITICAL', objective: 'FRESHNESS' });
    const companion = await h.runtime.services.ports.db.detector.findFirstOrThrow({ where: { sla: { id: sla.id } } });
    expect(companion.name).toBe(`sla:${name}`);
  });

  it('refuses bad input, naming the field', async () => {
    const stream = await newStream();
    const { registerSla: sla } = await sdk.registerSla({ input: { streamId: stream.id, name: fresh('errors'), objective: 'ERROR_RATE', threshold: 0.01, windowSeconds: 300 } });
    expect(await badInput(sdk.updateSla({ id: sla.id, input: { threshold: 2 } }))).toBe('input.threshold');
    expect(await badInput(sdk.updateSla({ id: sla.id, input: { windowSeconds: 0 } }))).toBe('input.windowSeconds');
    expect(await badInput(sdk.updateSla({ id: sla.id, input: { name: ' ' } }))).toBe('input.name');
    expect(await badInput(sdk.updateSla({ id: sla.id, input: {} }))).toBe('input');
    const { slas } = await sdk.slas({ streamId: stream.id });
    expect(slas).toEqual([expect.objectContaining({ id: sla.id, threshold: 0.01, windowSeconds: 300 })]);
  });
});

describe('updateRunbook', () => {
  it('replaces the steps and trigger, changes the cooldown and approval', async () => {
    const stream = await newStream();
    const detector = await newDetector(stream.id);
    const runbook = await newRunbook(stream.id);
    const { updateRunbook } = await sdk.updateRunbook({
      id: runbook.id,
      input: {
        trigger: { detectorId: detector.id, minSeverity: 'CRITICAL' },
        steps: [{ action: 'NOTIFY', params: { message: 'first' } }, { action: 'PAUSE_STREAM' }],
        cooldownSeconds: 0,
        requiresApproval: true,
      },
    });
    expect(updateRunbook).toMatchObject({
      id: runbook.id,
      name: runbook.name,
      cooldownSeconds: 0,
      requiresApproval: true,
      trigger: { minSeverity: 'CRITICAL', detector: { id: detector.id }, stream: null },
      steps: [{ action: 'NOTIFY' }, { action: 'PAUSE_STREAM' }],
    });
  });

  it('refuses bad input, naming the field', async () => {
    const stream = await newStream();
    const runbook = await newRunbook(stream.id);
    expect(await badInput(sdk.updateRunbook({ id: runbook.id, input: { steps: [] } }))).toBe('input.steps');
    expect(await badInput(sdk.updateRunbook({ id: runbook.id, input: { steps: [{ action: 'NOTIFY', params: { nonsense: 1 } }] } }))).toMatch(/^input\.steps\[0\]\.params/);
    expect(await badInput(sdk.updateRunbook({ id: runbook.id, input: { cooldownSeconds: -1 } }))).toBe('input.cooldownSeconds');
    expect(await badInput(sdk.updateRunbook({ id: runbook.id, input: { trigger: {} } }))).toBe('input.trigger');
    expect(await badInput(sdk.updateRunbook({ id: runbook.id, input: {} }))).toBe('input');
    const { runbooks } = await sdk.runbooks();
    expect(runbooks.find((r) => r.id === runbook.id)).toMatchObject({ cooldownSeconds: 60, steps: [{ action: 'NOTIFY' }] });
  });
});

describe('archive and restore', () => {
  it('a stream leaves the default list, keeps its detectors, SLAs and history, and comes back as it was', async () => {
    const stream = await newStream();
    const detector = await newDetector(stream.id);
    // The list is oldest first: this file's new stream is on the last page, so walk it.
    const listedAnywhere = async (includeArchived?: boolean) => {
      let after: string | null | undefined;
      for (;;) {
        const { streams } = await sdk.streams({ first: 100, after, ...(includeArchived === undefined ? {} : { includeArchived }) });
        if (streams.edges.some(({ node }) => node.id === stream.id)) return true;
        if (!streams.pageInfo.hasNextPage) return false;
        after = streams.pageInfo.endCursor;
      }
    };
    expect(await listedAnywhere()).toBe(true);

    const { archiveStream } = await sdk.archiveStream({ id: stream.id });
    expect(Date.parse(archiveStream.archivedAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(await listedAnywhere()).toBe(false);
    expect(await listedAnywhere(true)).toBe(true);
    // Still readable by id, with what hangs off it.
    const { stream: read } = await sdk.stream({ id: stream.id });
    expect(read).toMatchObject({ id: stream.id, archivedAt: archiveStream.archivedAt, detectors: [{ id: detector.id }] });
    expect(await badInput(sdk.archiveStream({ id: stream.id }))).toBe('id');

    const { restoreStream } = await sdk.restoreStream({ id: stream.id });
    expect(restoreStream.archivedAt).toBeNull();
    expect(await listedAnywhere()).toBe(true);
    expect(await badInput(sdk.restoreStream({ id: stream.id }))).toBe('id');
    expect((await auditOf(stream.id)).slice(-4)).toEqual(['archiveStream ALLOWED', 'archiveStream FAILED', 'restoreStream ALLOWED', 'restoreStream FAILED']);
  });

  it('a detector leaves the stream and detector lists but stays in its anomalies and their lineage', async () => {
    const stream = await newStream();
    const detector = await newDetector(stream.id);
    const other = await newDetector(stream.id);
    const anomalyId = newId('Anomaly');
    const now = new Date();
    await h.runtime.services.ports.db.anomaly.create({
      data: {
        id: anomalyId, streamId: stream.id, detectorId: detector.id, detectorVersion: 1, seriesKey: 'web-1', field: 'latency_ms', value: 900, score: 1.8,
        upper: 500, severity: 'WARNING', shadow: false, eventTime: now, explanation: 'value 900 is above the maximum 500', topic: stream.topic,
        partition: 0, offset: 0n, eventTimestamp: now, schemaVersion: 1,
      },
    });

    await sdk.archiveDetector({ id: detector.id });
    const ids = async (includeArchived?: boolean) => {
      const { stream: read } = await sdk.stream({ id: stream.id, ...(includeArchived === undefined ? {} : { includeArchived }) });
      const { detectors } = await sdk.detectors({ streamId: stream.id, ...(includeArchived === undefined ? {} : { includeArchived }) });
      return { onStream: read!.detectors.map((d) => d.id), listed: detectors.edges.map((e) => e.node.id) };
    };
    expect(await ids()).toEqual({ onStream: [other.id], listed: [other.id] });
    expect(await ids(true)).toEqual({ onStream: [detector.id, other.id], listed: [detector.id, other.id] });
    const { lineage } = await sdk.lineage({ anomalyId });
    expect(lineage.detector).toMatchObject({ id: detector.id, archivedAt: expect.any(String) });
    const { anomalies } = await sdk.anomalies({ filter: { detectorId: detector.id } });
    expect(anomalies.edges.map((e) => e.node.id)).toEqual([anomalyId]);

    await sdk.restoreDetector({ id: detector.id });
    expect(await ids()).toEqual({ onStream: [detector.id, other.id], listed: [detector.id, other.id] });
    expect(await auditOf(detector.id)).toEqual(['registerDetector ALLOWED', 'archiveDetector ALLOWED', 'restoreDetector ALLOWED']);
  });

  it('an SLA leaves the lists and comes back; its own detector cannot be archived alone and is never listed', async () => {
    const stream = await newStream();
    const mine = await newDetector(stream.id);
    const { registerSla: sla } = await sdk.registerSla({ input: { streamId: stream.id, name: fresh('fresh'), objective: 'FRESHNESS', threshold: 60, windowSeconds: 300 } });
    const companion = await h.runtime.services.ports.db.detector.findFirstOrThrow({ where: { sla: { id: sla.id } } });

    // The FRESHNESS SLA's internal THRESHOLD detector is Vigil's, not the user's.
    for (const includeArchived of [false, true]) {
      const { stream: read } = await sdk.stream({ id: stream.id, includeArchived });
      expect(read!.detectors.map((d) => d.name)).toEqual([mine.name]);
      const { detectors } = await sdk.detectors({ streamId: stream.id, includeArchived });
      expect(detectors.edges.map((e) => e.node.name)).toEqual([mine.name]);
    }
    expect(await badInput(sdk.archiveDetector({ id: companion.id }))).toBe('id');

    await sdk.archiveSla({ id: sla.id });
    expect((await sdk.slas({ streamId: stream.id })).slas).toEqual([]);
    expect((await sdk.stream({ id: stream.id })).stream!.slas).toEqual([]);
    expect((await sdk.slas({ streamId: stream.id, includeArchived: true })).slas).toEqual([expect.objectContaining({ id: sla.id, archivedAt: expect.any(String) })]);
    await sdk.restoreSla({ id: sla.id });
    expect((await sdk.slas({ streamId: stream.id })).slas).toEqual([expect.objectContaining({ id: sla.id, archivedAt: null })]);
    expect(await auditOf(sla.id)).toEqual(['registerSla ALLOWED', 'archiveSla ALLOWED', 'restoreSla ALLOWED']);
  });

  it('a runbook leaves the list and cannot be triggered while archived; restored, it can', async () => {
    const stream = await newStream();
    const runbook = await newRunbook(stream.id);
    await sdk.archiveRunbook({ id: runbook.id });
    expect((await sdk.runbooks()).runbooks.map((r) => r.id)).not.toContain(runbook.id);
    expect((await sdk.runbooks({ includeArchived: true })).runbooks.map((r) => r.id)).toContain(runbook.id);
    expect(await badInput(sdk.triggerRunbook({ runbookId: runbook.id }))).toBe('runbookId');
    expect(await h.runtime.services.ports.db.runbookExecution.count({ where: { runbookId: runbook.id } })).toBe(0);

    await sdk.restoreRunbook({ id: runbook.id });
    expect((await sdk.runbooks()).runbooks.map((r) => r.id)).toContain(runbook.id);
    const { triggerRunbook } = await sdk.triggerRunbook({ runbookId: runbook.id });
    expect(triggerRunbook.id).toMatch(/^exe_/);
    // An allowed call names what it made: the execution.
    expect(await auditOf(runbook.id)).toEqual(['registerRunbook ALLOWED', 'archiveRunbook ALLOWED', 'triggerRunbook FAILED', 'restoreRunbook ALLOWED']);
    expect(await auditOf(triggerRunbook.id)).toEqual(['triggerRunbook ALLOWED']);
  });

  it('unknown ids are NOT_FOUND naming id', async () => {
    const calls = [
      () => sdk.archiveStream({ id: newId('Stream') }),
      () => sdk.restoreDetector({ id: newId('Detector') }),
      () => sdk.archiveSla({ id: newId('Sla') }),
      () => sdk.archiveRunbook({ id: newId('Runbook') }),
    ];
    for (const call of calls) expect((await refused(call()))[0]).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
  });
});
