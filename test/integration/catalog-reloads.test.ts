import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { createDb, type Db } from '../../src/store/db.ts';
import { Catalog } from '../../src/stream/catalog.ts';
import { ContractCache } from '../../src/stream/contracts.ts';
import { RegistryVersion } from '../../src/stream/registry-version.ts';
import { TopicMembership } from '../../src/stream/topic-membership.ts';
import type { IncomingBatch } from '../../src/stream/transport.ts';
import { TEST_DATABASE_URL, uniqueName } from '../support/env.ts';

/**
 * A worker reloads its catalog on a timer and before a batch whose events
 * may be newer than it: two reloads can overlap. Against the real database,
 * the one that began first reads its rows, is held until the other has
 * finished, and then ends last: its older rows must not replace the newer.
 */
const prefix = uniqueName('reloads');

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; fire: () => void } {
  let fire = () => {};
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}
let db: Db;

beforeAll(async () => {
  db = createDb(TEST_DATABASE_URL, 2);
});
afterAll(async () => {
  await db?.$disconnect();
});

async function pausedStream(name: string): Promise<string> {
  const streamId = newId('Stream');
  await db.stream.create({ data: { id: streamId, name, topic: name, valueFields: ['latency_ms'], partitions: 1, retentionDays: 1, status: 'PAUSED' } });
  await db.streamSchemaVersion.create({ data: { streamId, version: 1, schema: { type: 'object' }, createdBy: 'test' } });
  return streamId;
}

async function addDetector(streamId: string, name: string): Promise<void> {
  await db.detector.create({
    data: {
      id: newId('Detector'),
      streamId,
      name,
      field: 'latency_ms',
      versions: { create: { version: 1, kind: 'ZSCORE', params: { window: 30, threshold: 4, warmup: 10, direction: 'BOTH' }, mode: 'ACTIVE', severity: 'WARNING', createdBy: 'test' } },
    },
  });
}

describe('overlapping catalog reloads', () => {
  it('keep what the reload that began last read, whichever ends last', async () => {
    const name = `${prefix}-s`;
    const streamId = await pausedStream(name);

    // The first reload's streams query runs now; its answer is handed back only once `release` fires.
    const firstRead = gate();
    const release = gate();
    let held = true;
    const gated = new Proxy(db, {
      get(target, property) {
        if (property !== 'stream') return Reflect.get(target, property);
        return new Proxy(target.stream, {
          get(model, method) {
            const original = Reflect.get(model, method) as (...args: unknown[]) => Promise<unknown>;
            if (method !== 'findMany' || !held) return typeof original === 'function' ? original.bind(model) : original;
            held = false;
            return async (...args: unknown[]) => {
              const rows = await original.apply(model, args);
              firstRead.fire();
              await release.promise;
              return rows;
            };
          },
        });
      },
    }) as Db;
    const catalog = new Catalog(gated, new ContractCache(db), [`${prefix}-*`]);

    const older = catalog.reload('1');
    await firstRead.promise;
    // A detector arrives after the first reload read its rows; the second reload sees it.
    await addDetector(streamId, 'z');
    await catalog.reload('2');
    expect(catalog.stream(name)?.detectors.map((d) => d.name)).toEqual(['z']);

    release.fire();
    await older;
    expect(catalog.stream(name)?.detectors.map((d) => d.name)).toEqual(['z']);
    expect(catalog.version).toBe('2');
  });
});

describe('a batch and a reload at once', () => {
  it('scores the batch with a catalog as new as its events, though a reload lands while the registry is asked', async () => {
    const name = `${prefix}-b`;
    const streamId = await pausedStream(name);
    const registry = new RegistryVersion(db);
    // The worker's registry: its first question is answered only once `release` fires.
    const asked = gate();
    const release = gate();
    let held = true;
    class HeldRegistry extends RegistryVersion {
      override async current(since?: number): Promise<string> {
        if (!held) return super.current(since);
        held = false;
        asked.fire();
        await release.promise;
        return super.current(since);
      }
    }
    const membership = new TopicMembership(
      { db, contracts: new ContractCache(db), registry: new HeldRegistry(db) },
      [`${prefix}-b`],
      pino({ level: 'silent' }),
      () => {
        throw new Error('a paused stream is not consumed');
      },
      { onBatch: async () => undefined, onAssignment: () => undefined },
    );
    await membership.catalog.reload(await registry.current());
    expect(membership.stream(name)?.detectors).toEqual([]);

    // A detector is registered (the version moves with it), then its stream's first events are produced.
    await addDetector(streamId, 'z');
    await registry.bump();
    const batch: IncomingBatch = { topic: name, partition: 0, messages: [{ offset: '0', key: null, value: Buffer.from('{}'), timestamp: Date.now(), headers: {} }] };
    const spec = membership.streamFor(batch);
    await asked.promise;
    // While the batch waits on the registry, the timer's reload installs the new catalog, and its version.
    await membership.catalog.reload(await registry.current());
    release.fire();
    expect((await spec)?.detectors.map((d) => d.name)).toEqual(['z']);
  });
});
