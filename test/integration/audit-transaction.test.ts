import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlErrors, registerLatencyStream, startHarness, type Harness } from '../support/harness.ts';

/**
 * A mutation's effect and its ALLOWED audit entry commit together or not at
 * all; what announces the effect outside PostgreSQL waits for the commit.
 * Test-only hooks patch a service of the in-process gateway for one call.
 */
let h: Harness;
let stream: { id: string };

beforeAll(async () => {
  h = await startHarness();
  stream = await registerLatencyStream(h);
});
afterAll(async () => {
  await h?.close();
});

const PAUSE = `mutation($id: ID!) { pauseStream(id: $id) { id status } }`;
const RESUME = `mutation($id: ID!) { resumeStream(id: $id) { id status } }`;

const statusOf = async () => (await h.runtime.services.ports.db.stream.findUniqueOrThrow({ where: { id: stream.id } })).status;
const lastSeq = async () => (await h.runtime.services.ports.db.auditEntry.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true } }))?.seq ?? 0n;
const entriesSince = (seq: bigint, action: string) =>
  h.runtime.services.ports.db.auditEntry.findMany({ where: { seq: { gt: seq }, action, target: stream.id }, orderBy: { seq: 'asc' } });

/** Replaces `services.streams.setStatus` for the duration of `body`. */
async function withSetStatus(replacement: (original: typeof h.runtime.services.streams.setStatus) => typeof h.runtime.services.streams.setStatus, body: () => Promise<void>) {
  const streams = h.runtime.services.streams;
  const original = streams.setStatus.bind(streams);
  streams.setStatus = replacement(original);
  try {
    await body();
  } finally {
    streams.setStatus = original;
  }
}

describe('a mutation and its audit entry', () => {
  it('roll back together when the service fails after its write: no ALLOWED entry without its effect', async () => {
    expect(await statusOf()).toBe('ACTIVE');
    const seq = await lastSeq();
    await withSetStatus(
      (original) => async (id, status) => {
        await original(id, status);
        throw new Error('the service failed after writing');
      },
      async () => {
        const [error] = await graphqlErrors(h.admin.request(PAUSE, { id: stream.id }));
        expect(error?.extensions.code).toBe('INTERNAL');
      },
    );
    expect(await statusOf()).toBe('ACTIVE');
    expect((await entriesSince(seq, 'pauseStream')).map((e) => [e.outcome, (e.detail as { code?: string }).code])).toEqual([['FAILED', 'INTERNAL']]);
  });

  it('roll back together when the entry cannot be written: no effect without its ALLOWED entry', async () => {
    const seq = await lastSeq();
    const audit = h.runtime.services.audit;
    const append = audit.append.bind(audit);
    // Only the ALLOWED entry is written inside the mutation's transaction (with a tx); that one fails.
    audit.append = async (record, tx) => {
      if (tx) throw new Error('the audit table is unavailable');
      return append(record, tx);
    };
    try {
      const [error] = await graphqlErrors(h.admin.request(PAUSE, { id: stream.id }));
      expect(error?.extensions.code).toBe('INTERNAL');
    } finally {
      audit.append = append;
    }
    expect(await statusOf()).toBe('ACTIVE');
    expect((await entriesSince(seq, 'pauseStream')).map((e) => e.outcome)).toEqual(['FAILED']);
  });

  it('become visible together to a concurrent reader, and so does the registry version workers reload on', async () => {
    const seq = await lastSeq();
    let written!: () => void;
    const writtenSignal = new Promise<void>((resolve) => (written = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Read as a worker reads it, from another connection (the test is in no mutation's transaction).
    const registryVersion = () => h.runtime.services.registry.current();
    const versionBefore = BigInt(await registryVersion());
    await withSetStatus(
      (original) => async (id, status) => {
        const result = await original(id, status);
        written();
        await gate;
        return result;
      },
      async () => {
        const mutation = h.admin.request<{ pauseStream: { status: string } }>(PAUSE, { id: stream.id });
        await writtenSignal;
        // Another connection, while the mutation holds its transaction open: neither the effect, the entry nor the new version yet.
        expect(await statusOf()).toBe('ACTIVE');
        expect(await entriesSince(seq, 'pauseStream')).toEqual([]);
        expect(BigInt(await registryVersion())).toBe(versionBefore);
        release();
        expect((await mutation).pauseStream.status).toBe('PAUSED');
      },
    );
    expect(await statusOf()).toBe('PAUSED');
    expect((await entriesSince(seq, 'pauseStream')).map((e) => e.outcome)).toEqual(['ALLOWED']);
    expect(BigInt(await registryVersion())).toBeGreaterThan(versionBefore);
    expect(await h.runtime.services.audit.verify()).toMatchObject({ ok: true });
    await h.admin.request(RESUME, { id: stream.id });
  });
});
