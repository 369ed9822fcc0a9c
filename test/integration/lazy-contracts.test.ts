import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type Db } from '../../src/store/db.ts';
import { newId } from '../../src/core/ids.ts';
import { Catalog } from '../../src/stream/catalog.ts';
import { ContractCache } from '../../src/stream/contracts.ts';
import { KafkajsTransport } from '../../src/stream/kafkajs-transport.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS, uniqueName } from '../support/env.ts';

/**
 * Issue 13, "Restarts": a worker's catalog over a big registry loads without
 * compiling any schema; a stream's contract is compiled at its first event,
 * once, and a paused stream's (which gets no events) never. The load time
 * is printed, not asserted (test/e2e/restarts.test.ts bounds the start as a whole).
 */
/** Every schema compiled in this file, however the cache and the catalog come to compile it. */
const compiles = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/stream/json-schema.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/stream/json-schema.ts')>();
  return {
    ...original,
    compileValidator: (...args: Parameters<typeof original.compileValidator>) => {
      compiles.count++;
      return original.compileValidator(...args);
    },
  };
});

const STREAMS = 200;
const prefix = uniqueName('lazy');
let db: Db;

/** About 30 kB, within the schema limits: a few hundred ms of ajv each, so 200 of them compiled at load would take a minute. */
function bigSchema(): object {
  const properties: Record<string, unknown> = { host: { type: 'string' } };
  for (let i = 0; i < 600; i++) properties[`f${i}`] = i % 2 ? { type: 'string', enum: ['a', 'b', 'c'] } : { type: 'integer', minimum: 0 };
  return { type: 'object', properties, required: ['host'] };
}

beforeAll(async () => {
  db = createDb(TEST_DATABASE_URL, 2);
  const schema = bigSchema();
  const streams = Array.from({ length: STREAMS }, (_, i) => ({
    id: newId('Stream'),
    name: `${prefix}-${i}`,
    topic: `${prefix}-${i}`,
    valueFields: [],
    partitions: 1,
    retentionDays: 1,
    // One ACTIVE (its topic exists: workers of other test files that consume every stream subscribe to it).
    status: i === 0 ? ('ACTIVE' as const) : ('PAUSED' as const),
  }));
  const kafka = new KafkajsTransport(TEST_KAFKA_BROKERS, 'lazy-contracts-test', createLogger('warn'));
  await kafka.ensureTopic(streams[0]!.topic, 1);
  await kafka.close();
  await db.stream.createMany({ data: streams });
  await db.streamSchemaVersion.createMany({ data: streams.map((s) => ({ streamId: s.id, version: 1, schema, createdBy: 'test' })) });
});
afterAll(async () => {
  await db?.$disconnect();
});

describe('contracts over a registry of 200 big schemas', () => {
  it('are fetched at load but compiled only at a first event: once, and never for a stream that gets none', async () => {
    const compiled: string[] = [];
    const contracts = new ContractCache(db, undefined, (streamId, version) => compiled.push(`${streamId}@${version}`));
    const catalog = new Catalog(db, contracts, [`${prefix}-*`]);

    const startedAt = performance.now();
    await catalog.reload();
    const loadMs = Math.round(performance.now() - startedAt);
    console.log(`catalog of ${STREAMS} streams (~30 kB schema each) loaded in ${loadMs} ms, ${compiles.count} schemas compiled`);
    expect(compiles.count).toBe(0);
    expect(catalog.activeTopics()).toEqual([`${prefix}-0`]);

    // A reload (every catalogRefreshMs) neither fetches nor compiles again.
    await catalog.reload();
    expect(compiles.count).toBe(0);

    const active = catalog.stream(`${prefix}-0`)!;
    const paused = catalog.stream(`${prefix}-1`)!;
    expect([active.status, paused.status]).toEqual(['ACTIVE', 'PAUSED']);
    // The first event of the active stream compiles its contract, once.
    expect(active.validate({ host: 'a', f0: 1 })).toEqual({ ok: true });
    expect(active.validate({ f0: 1 }).ok).toBe(false);
    expect(compiles.count).toBe(1);
    expect(compiled).toEqual([`${active.id}@1`]);

    await catalog.reload();
    expect(catalog.stream(`${prefix}-0`)!.validate({ host: 'b' })).toEqual({ ok: true });
    expect(compiles.count).toBe(1);
  });
});
