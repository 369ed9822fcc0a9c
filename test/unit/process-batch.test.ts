import { describe, expect, it, vi } from 'vitest';
import { createDetector } from '../../src/detectors/detector.ts';
import type { DetectorKind, DetectorMode, Severity } from '../../src/generated/prisma/enums.ts';
import { DEFAULT_INCIDENT_POLICY } from '../../src/incidents/policy.ts';
import type { DetectorSpec, StreamSpec } from '../../src/stream/catalog.ts';
import { compileValidator } from '../../src/stream/json-schema.ts';
import { emptyPartitionState, type DetectorPartitionState, type PartitionState } from '../../src/stream/partition-state.ts';
import { processBatch, tickPartition, type BatchEffects, type NewAnomaly, type NewDeadLetter } from '../../src/stream/process-batch.ts';
import { canaryOf, CANARY_VALUE } from '../../src/stream/canary.ts';
import { CANARY_HEADER, type IncomingMessage } from '../../src/stream/transport.ts';

// ---------------------------------------------------------------------------
// In-memory fixtures: a stream, its detectors (real models), partition state, messages.
// ---------------------------------------------------------------------------

const T0 = Date.UTC(2024, 5, 1, 0, 0, 0);
const LIMIT = 64 * 1024;
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function detector(
  id: string,
  kind: DetectorKind,
  field: string,
  params: Record<string, unknown>,
  options: { version?: number; mode?: DetectorMode; severity?: Severity } = {},
): DetectorSpec {
  const version = options.version ?? 1;
  return {
    id,
    name: `${kind.toLowerCase()} on ${field}`,
    field,
    fieldPath: field.split('.'),
    version,
    kind,
    params,
    mode: options.mode ?? 'ACTIVE',
    severity: options.severity ?? 'WARNING',
    model: createDetector(kind, params, field),
    stateKey: `${id}@${version}`,
    incidentPolicy: DEFAULT_INCIDENT_POLICY, // not read by the pure pipeline
  };
}

const schema = {
  type: 'object',
  properties: {
    host: { type: 'string' },
    at: { type: ['string', 'number'] },
    latency_ms: { type: ['number', 'null'] },
    errors: { type: 'integer' },
  },
};

type StreamOverrides = Partial<Omit<StreamSpec, 'keyPath' | 'timestampPath'>>;

/** A stream as the catalog builds it: the key and timestamp paths are the fields split on dots. */
function streamSpec(detectors: DetectorSpec[], overrides: StreamOverrides = {}): StreamSpec {
  const keyField = overrides.keyField === undefined ? 'host' : overrides.keyField;
  const timestampField = overrides.timestampField === undefined ? 'at' : overrides.timestampField;
  return {
    id: 'str_PAYMENTS',
    name: 'payments',
    topic: 'vigil.payments',
    status: 'ACTIVE',
    schemaVersion: 4,
    validate: compileValidator(schema),
    detectors,
    ...overrides,
    keyField,
    timestampField,
    keyPath: keyField ? keyField.split('.') : null,
    timestampPath: timestampField ? timestampField.split('.') : null,
  };
}

/** The detectors most tests use, built afresh (models hold no series data, but ids must be stable). */
function standardDetectors() {
  return {
    threshold: detector('det_THR', 'THRESHOLD', 'latency_ms', { max: 100 }, { version: 2, severity: 'CRITICAL' }),
    shadow: detector('det_SHD', 'THRESHOLD', 'errors', { max: 0 }, { version: 1, mode: 'SHADOW', severity: 'INFO' }),
    zscore: detector('det_ZSC', 'ZSCORE', 'latency_ms', { window: 20, warmup: 5, threshold: 3 }, { version: 3 }),
    freshness: detector('det_FRS', 'FRESHNESS', 'latency_ms', { maxGapSeconds: 60 }, { version: 1, severity: 'CRITICAL' }),
  };
}

function partitionState(overrides: Partial<PartitionState> = {}): PartitionState {
  return { ...emptyPartitionState('vigil.payments', 3), ...overrides };
}

function msg(
  offset: number | bigint,
  value: Record<string, unknown> | string | null,
  options: { key?: string | null; timestamp?: number; headers?: Record<string, string> } = {},
): IncomingMessage {
  return {
    offset: String(offset),
    key: options.key === undefined ? `key-${offset}` : options.key,
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8'),
    timestamp: options.timestamp ?? T0 + Number(offset) * 1000,
    headers: options.headers ?? {},
  };
}

/** Mirrors the worker: after a successful commit the position and the committed offset move on. */
function commit(state: PartitionState, effects: BatchEffects): void {
  state.position = effects.nextOffset;
  if (effects.nextOffset > state.committedOffset) state.committedOffset = effects.nextOffset;
}

type Checkpoint = Map<string, { nextOffset: bigint; json: string }>;

/** What commitBatch stores: per detector version, its next offset and its series state as JSON. */
function takeCheckpoint(state: PartitionState): Checkpoint {
  const checkpoint: Checkpoint = new Map();
  for (const [stateKey, entry] of state.detectors) {
    checkpoint.set(stateKey, { nextOffset: entry.nextOffset, json: JSON.stringify(entry.series) });
  }
  return checkpoint;
}

/** Mirrors StreamWorker.restore: reading restarts at the oldest point any detector's checkpoint needs. */
function restore(stream: StreamSpec, partition: number, committedOffset: bigint, checkpoint: Checkpoint): PartitionState {
  const state = partitionState({ partition, committedOffset, position: committedOffset });
  for (const d of stream.detectors) {
    const saved = checkpoint.get(d.stateKey);
    if (!saved) {
      state.detectors.set(d.stateKey, { nextOffset: committedOffset, series: {} });
      if (committedOffset > 0n) state.uncheckpointedStart = true;
      continue;
    }
    const series: Record<string, unknown> = {};
    for (const [slot, s] of Object.entries(JSON.parse(saved.json) as Record<string, unknown>)) series[slot] = d.model.restore(s);
    state.detectors.set(d.stateKey, { nextOffset: saved.nextOffset, series });
    if (saved.nextOffset < state.position) state.position = saved.nextOffset;
  }
  return state;
}

function seriesOf(state: PartitionState, d: DetectorSpec): DetectorPartitionState {
  const entry = state.detectors.get(d.stateKey);
  if (!entry) throw new Error(`no state for ${d.stateKey}`);
  return entry;
}

function zscoreCount(state: PartitionState, d: DetectorSpec, slot: string): number | undefined {
  const s = seriesOf(state, d).series[slot] as { n: number } | undefined;
  return s?.n;
}

function summary(anomalies: NewAnomaly[]): string[] {
  return anomalies.map((a) => `${a.offset}:${a.detectorId}`);
}

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// ---------------------------------------------------------------------------

describe('processBatch: anomalies and their lineage', () => {
  it('records where an anomaly came from and which detector version found it', () => {
    const { threshold, shadow } = standardDetectors();
    const stream = streamSpec([threshold, shadow]);
    const state = partitionState({ partition: 3, position: 1000n, committedOffset: 1000n });
    const at = '2024-06-01T00:10:00.000Z';
    const kafkaTime = T0 + 777_000;
    const effects = processBatch(
      stream,
      state,
      [
        msg(1000, { host: 'web-1', at, latency_ms: 50, errors: 0 }),
        msg(1001, { host: 'web-1', at, latency_ms: 250, errors: 2 }, { key: 'order-9', timestamp: kafkaTime, headers: { traceparent: TRACEPARENT } }),
      ],
      LIMIT,
    );
    expect(effects.deadLetters).toEqual([]);
    expect(effects.validEvents).toBe(2);
    expect(effects.nextOffset).toBe(1002n);
    expect(effects.anomalies).toHaveLength(2);

    const [breach, shadowed] = effects.anomalies;
    expect(breach).toEqual({
      streamId: 'str_PAYMENTS',
      detectorId: 'det_THR',
      detectorVersion: 2,
      seriesKey: 'web-1',
      field: 'latency_ms',
      value: 250,
      score: 2.5,
      expected: null,
      lower: null,
      upper: 100,
      severity: 'CRITICAL',
      shadow: false,
      eventTime: new Date(at),
      explanation: expect.stringContaining('above the maximum 100') as unknown as string,
      topic: 'vigil.payments',
      partition: 3,
      offset: 1001n,
      eventKey: 'order-9',
      eventTimestamp: new Date(kafkaTime),
      schemaVersion: 4,
      traceparent: TRACEPARENT,
      silenceId: null,
    } satisfies NewAnomaly);

    expect(shadowed).toMatchObject({
      detectorId: 'det_SHD',
      detectorVersion: 1,
      field: 'errors',
      value: 2,
      severity: 'INFO',
      shadow: true,
      offset: 1001n,
      partition: 3,
      topic: 'vigil.payments',
      eventKey: 'order-9',
      schemaVersion: 4,
      traceparent: TRACEPARENT,
    });
  });

  it('uses the Kafka timestamp as the event time when the event has none, and a null series key without keyField', () => {
    const { threshold } = standardDetectors();
    const stream = streamSpec([threshold], { keyField: null });
    const effects = processBatch(stream, partitionState(), [msg(0, { host: 'web-1', latency_ms: 101 }, { timestamp: T0 + 5 })], LIMIT);
    expect(effects.anomalies).toHaveLength(1);
    expect(effects.anomalies[0]).toMatchObject({ seriesKey: null, eventTime: new Date(T0 + 5), eventTimestamp: new Date(T0 + 5), traceparent: null });
  });

  it('keeps one detector state per series key', () => {
    const { zscore } = standardDetectors();
    const state = partitionState();
    const messages = [0, 1, 2, 3, 4, 5, 6].map((i) => msg(i, { host: i % 2 === 0 ? 'a' : 'b', latency_ms: 10 + i }));
    processBatch(streamSpec([zscore]), state, messages, LIMIT);
    expect(zscoreCount(state, zscore, 'a')).toBe(4);
    expect(zscoreCount(state, zscore, 'b')).toBe(3);
    expect(Object.keys(seriesOf(state, zscore).series).sort()).toEqual(['a', 'b']);
  });
});

describe('processBatch: dead letters', () => {
  it('dead-letters poison messages with their lineage and goes on with later events', () => {
    const { threshold } = standardDetectors();
    const stream = streamSpec([threshold]);
    const state = partitionState({ partition: 1 });
    const oversized = JSON.stringify({ host: 'a', latency_ms: 1, pad: 'x'.repeat(200) });
    const messages = [
      msg(0, { host: 'a', latency_ms: 10 }),
      msg(1, '{"host": "a", "latency_ms": ', { key: 'bad-json' }),
      msg(2, { host: 'a', latency_ms: 'slow' }, { key: null }),
      msg(3, oversized),
      msg(4, { host: 'a', at: 'not-a-date', latency_ms: 500 }),
      msg(5, { host: 'a', latency_ms: 150 }),
    ];
    const effects = processBatch(stream, state, messages, 150);

    expect(effects.deadLetters.map((d) => d.offset)).toEqual([1n, 2n, 3n, 4n]);
    const [malformed, violation, big, badTime] = effects.deadLetters as [NewDeadLetter, NewDeadLetter, NewDeadLetter, NewDeadLetter];
    expect(malformed).toEqual({
      streamId: 'str_PAYMENTS',
      topic: 'vigil.payments',
      partition: 1,
      offset: 1n,
      eventKey: 'bad-json',
      eventTimestamp: new Date(T0 + 1000),
      reason: expect.stringMatching(/^malformed JSON/) as unknown as string,
      payload: '{"host": "a", "latency_ms": ',
    } satisfies NewDeadLetter);
    expect(violation.reason).toMatch(/^contract violation \(schema v4\): .*latency_ms/);
    expect(violation.eventKey).toBeNull();
    expect(violation.payload).toBe(JSON.stringify({ host: 'a', latency_ms: 'slow' }));
    expect(big.reason).toBe(`oversized: ${Buffer.byteLength(oversized)} bytes, the limit is 150`);
    expect(badTime.reason).toBe('at is not a time: "not-a-date"');

    // The event after the poison is still judged; the poison never reached a detector.
    expect(summary(effects.anomalies)).toEqual(['5:det_THR']);
    expect(effects.validEvents).toBe(2);
    expect(effects.nextOffset).toBe(6n);
  });

  it('does not feed a dead-lettered event to the detectors', () => {
    const { zscore } = standardDetectors();
    const state = partitionState();
    processBatch(streamSpec([zscore]), state, [msg(0, { host: 'a', latency_ms: 1 }), msg(1, '{'), msg(2, { host: 'a', latency_ms: 2 })], LIMIT);
    expect(zscoreCount(state, zscore, 'a')).toBe(2);
  });
});

describe('processBatch: null and missing values', () => {
  it('skips a null, missing or non-numeric value without a dead letter', () => {
    const { threshold, zscore } = standardDetectors();
    const stream = streamSpec([threshold, zscore], { validate: compileValidator(true) });
    const state = partitionState();
    const effects = processBatch(
      stream,
      state,
      [msg(0, { host: 'a', latency_ms: null }), msg(1, { host: 'a' }), msg(2, { host: 'a', latency_ms: '900' }), msg(3, { host: 'a', latency_ms: 900 })],
      LIMIT,
    );
    expect(effects.deadLetters).toEqual([]);
    expect(effects.validEvents).toBe(4);
    expect(summary(effects.anomalies)).toEqual(['3:det_THR']);
    // Skipped events still move each detector's position on, but leave its series untouched.
    expect(seriesOf(state, zscore).nextOffset).toBe(4n);
    expect(zscoreCount(state, zscore, 'a')).toBe(1);
  });

  it('creates no series state for a series whose values are all missing', () => {
    const { zscore } = standardDetectors();
    const state = partitionState();
    processBatch(streamSpec([zscore]), state, [msg(0, { host: 'quiet', latency_ms: null }), msg(1, { host: 'quiet' })], LIMIT);
    expect(seriesOf(state, zscore)).toEqual({ nextOffset: 2n, series: {} });
  });
});

describe('processBatch: positions and replay', () => {
  it('skips messages before position entirely (a refetch after a seek)', () => {
    const { threshold, zscore } = standardDetectors();
    const stream = streamSpec([threshold, zscore]);
    const state = partitionState({ position: 3n, committedOffset: 3n });
    const effects = processBatch(
      stream,
      state,
      [
        msg(0, '{oops'),
        msg(1, { host: 'a', latency_ms: 500 }),
        msg(2, { host: 'a', latency_ms: 10 }),
        msg(3, { host: 'a', latency_ms: 10 }),
        msg(4, { host: 'a', latency_ms: 500 }),
        msg(5, { host: 'a', latency_ms: 10 }),
      ],
      LIMIT,
    );
    expect(summary(effects.anomalies)).toEqual(['4:det_THR']);
    expect(effects.deadLetters).toEqual([]);
    expect(effects.validEvents).toBe(3);
    expect(effects.nextOffset).toBe(6n);
    expect(zscoreCount(state, zscore, 'a')).toBe(3);
  });

  it('leaves nextOffset at the position when the whole batch was seen already', () => {
    const { threshold } = standardDetectors();
    const state = partitionState({ position: 10n, committedOffset: 10n });
    const effects = processBatch(streamSpec([threshold]), state, [msg(8, { host: 'a', latency_ms: 500 }), msg(9, '{')], LIMIT);
    expect(effects).toEqual({ anomalies: [], deadLetters: [], drift: [], validEvents: 0, untrackedEvents: 0, nextOffset: 10n, canaries: [] });
    expect(state.detectors.size).toBe(0);
  });

  it('before committedOffset only rebuilds detector state: no anomalies, dead letters or counts', () => {
    const { threshold, zscore } = standardDetectors();
    const state = partitionState({ position: 0n, committedOffset: 3n });
    const effects = processBatch(
      streamSpec([threshold, zscore]),
      state,
      [
        msg(0, { host: 'a', latency_ms: 10 }),
        msg(1, { host: 'a', latency_ms: 500 }),
        msg(2, '{poison'),
        msg(3, { host: 'a', latency_ms: 10 }),
        msg(4, { host: 'a', latency_ms: 500 }),
        msg(5, '{poison'),
      ],
      LIMIT,
    );
    expect(summary(effects.anomalies)).toEqual(['4:det_THR']);
    expect(effects.deadLetters.map((d) => d.offset)).toEqual([5n]);
    expect(effects.validEvents).toBe(2);
    expect(effects.nextOffset).toBe(6n);
    // All four valid events, replayed or not, are in the detector state.
    expect(zscoreCount(state, zscore, 'a')).toBe(4);
  });

  it('feeds a detector only the events after its own checkpoint', () => {
    const { threshold, zscore } = standardDetectors();
    // Restored: committed up to 3; THRESHOLD's checkpoint covers up to 4, ZSCORE's up to 2.
    const state = partitionState({ position: 2n, committedOffset: 3n });
    state.detectors.set(threshold.stateKey, { nextOffset: 4n, series: {} });
    state.detectors.set(zscore.stateKey, { nextOffset: 2n, series: {} });
    const messages = [2, 3, 4, 5].map((i) => msg(i, { host: 'a', latency_ms: 500 }));
    const effects = processBatch(streamSpec([threshold, zscore]), state, messages, LIMIT);
    // Offset 3 is past committedOffset, but THRESHOLD's checkpoint already covers it: no anomaly there.
    expect(summary(effects.anomalies)).toEqual(['4:det_THR', '5:det_THR']);
    expect(zscoreCount(state, zscore, 'a')).toBe(4);
    expect(seriesOf(state, threshold).nextOffset).toBe(6n);
    expect(seriesOf(state, zscore).nextOffset).toBe(6n);
    expect(state.uncheckpointedStart).toBe(false);
  });

  it('marks a detector first seen on this partition as needing a checkpoint', () => {
    const { threshold, zscore } = standardDetectors();
    const stream = streamSpec([threshold, zscore]);

    const known = partitionState({ position: 7n, committedOffset: 7n });
    known.detectors.set(threshold.stateKey, { nextOffset: 7n, series: {} });
    known.detectors.set(zscore.stateKey, { nextOffset: 7n, series: {} });
    processBatch(stream, known, [msg(7, { host: 'a', latency_ms: 1 })], LIMIT);
    expect(known.uncheckpointedStart).toBe(false);

    const added = partitionState({ position: 7n, committedOffset: 7n });
    added.detectors.set(threshold.stateKey, { nextOffset: 7n, series: {} });
    processBatch(stream, added, [msg(7, { host: 'a', latency_ms: 1 }), msg(8, { host: 'a', latency_ms: 2 })], LIMIT);
    expect(added.uncheckpointedStart).toBe(true);
    expect(seriesOf(added, zscore).nextOffset).toBe(9n);
    expect(zscoreCount(added, zscore, 'a')).toBe(2);
  });
});

describe('processBatch: replay from a checkpoint is exactly one uninterrupted pass', () => {
  /** 80 events on two series with spikes, shadow breaches, poison and null values. */
  function history(): IncomingMessage[] {
    const messages: IncomingMessage[] = [];
    for (let i = 0; i < 80; i++) {
      const host = i % 3 === 0 ? 'b' : 'a';
      const value: Record<string, unknown> = {
        host,
        at: new Date(T0 + i * 1000 - 250).toISOString(),
        latency_ms: 50 + ((i * 37) % 11) - 5,
        errors: 0,
      };
      if (i === 31) value.latency_ms = 95; // a statistical outlier under the fixed maximum
      if (i === 50) value.latency_ms = 500; // both
      if (i === 20 || i === 61) value.errors = 3; // the SHADOW detector
      if (i === 45) value.latency_ms = null;
      if (i === 46) delete value.latency_ms;
      const headers: Record<string, string> = i % 7 === 0 ? { traceparent: `00-${'ab'.repeat(16)}-${String(i).padStart(16, '1')}-01` } : {};
      if (i === 25) messages.push(msg(i, '{"host": "a", "latency_ms": 5', { headers }));
      else if (i === 40) messages.push(msg(i, { host, latency_ms: 'slow' }, { headers }));
      else if (i === 55) messages.push(msg(i, { ...value, at: 'garbage' }, { headers }));
      else messages.push(msg(i, value, { headers }));
    }
    return messages;
  }

  const BATCH = 7;

  /** One uninterrupted pass, batch by batch; a checkpoint after every batch. */
  function uninterrupted(stream: StreamSpec, messages: IncomingMessage[]) {
    const state = partitionState();
    const perBatch: BatchEffects[] = [];
    const checkpoints: Checkpoint[] = [takeCheckpoint(state)];
    for (const batch of batches(messages, BATCH)) {
      const effects = processBatch(stream, state, batch, LIMIT);
      commit(state, effects);
      perBatch.push(effects);
      checkpoints.push(takeCheckpoint(state));
    }
    return { state, perBatch, checkpoints };
  }

  function collect(effects: BatchEffects[]) {
    return {
      anomalies: effects.flatMap((e) => e.anomalies),
      deadLetters: effects.flatMap((e) => e.deadLetters),
      validEvents: effects.reduce((n, e) => n + e.validEvents, 0),
    };
  }

  /** Feeds `messages` to a restored state in batches of `size`, committing each, as Kafka redelivers them after a restart. */
  function resume(stream: StreamSpec, state: PartitionState, messages: IncomingMessage[], size: number) {
    const after: BatchEffects[] = [];
    for (const batch of batches(messages, size)) {
      const effects = processBatch(stream, state, batch, LIMIT);
      commit(state, effects);
      after.push(effects);
    }
    return collect(after);
  }

  function detectorStateJson(state: PartitionState): Record<string, { nextOffset: string; series: string }> {
    const out: Record<string, { nextOffset: string; series: string }> = {};
    for (const [key, entry] of state.detectors) out[key] = { nextOffset: entry.nextOffset.toString(), series: JSON.stringify(entry.series) };
    return out;
  }

  it('the reference pass finds what the history holds', () => {
    const d = standardDetectors();
    const stream = streamSpec([d.threshold, d.shadow, d.zscore, d.freshness]);
    const { perBatch } = uninterrupted(stream, history());
    const all = collect(perBatch);
    expect(summary(all.anomalies)).toEqual(['11:det_ZSC', '20:det_SHD', '31:det_ZSC', '50:det_THR', '50:det_ZSC', '61:det_SHD']);
    expect(all.deadLetters.map((x) => x.offset)).toEqual([25n, 40n, 55n]);
    expect(all.validEvents).toBe(77);
    // The same pass in one batch gives the same effects: batch boundaries do not matter.
    const single = processBatch(stream, partitionState(), history(), LIMIT);
    expect(single.anomalies).toEqual(all.anomalies);
    expect(single.deadLetters).toEqual(all.deadLetters);
    expect(single.validEvents).toBe(all.validEvents);
  });

  it('for every crash point and every older checkpoint, committed effects + effects after restart = one pass', () => {
    const d = standardDetectors();
    const stream = streamSpec([d.threshold, d.shadow, d.zscore, d.freshness]);
    const messages = history();
    const reference = uninterrupted(stream, messages);
    const expected = collect(reference.perBatch);
    const batchCount = reference.perBatch.length;
    let cases = 0;

    for (let crashAfter = 0; crashAfter <= batchCount; crashAfter++) {
      const committed = collect(reference.perBatch.slice(0, crashAfter));
      const committedOffset = crashAfter === 0 ? 0n : reference.perBatch[crashAfter - 1]!.nextOffset;
      // The first commit always carries a checkpoint (every detector is new), so after it there is one.
      for (let checkpointAt = crashAfter === 0 ? 0 : 1; checkpointAt <= crashAfter; checkpointAt++) {
        const checkpoint = reference.checkpoints[checkpointAt]!;
        const state = restore(stream, 3, committedOffset, checkpoint);
        const restartedAt = state.position;
        expect(restartedAt <= committedOffset).toBe(true);
        // Kafka redelivers from the restored position; batch boundaries differ from the first pass.
        const resumed = resume(stream, state, messages.slice(Number(restartedAt)), 5);
        expect([...committed.anomalies, ...resumed.anomalies]).toEqual(expected.anomalies);
        expect([...committed.deadLetters, ...resumed.deadLetters]).toEqual(expected.deadLetters);
        expect(committed.validEvents + resumed.validEvents).toBe(expected.validEvents);
        expect(detectorStateJson(state)).toEqual(detectorStateJson(reference.state));
        expect(state.committedOffset).toBe(80n);
        // Silence is judged the same way afterwards.
        const later = T0 + 200 * 1000;
        // A series is named only if an event of it was read since the restart (78 is the last 'b', 79 the last 'a').
        const silent = tickPartition(stream, state, later);
        if (restartedAt <= 78n) expect(silent).toEqual(tickPartition(stream, restoreFor(reference.state), later));
        else expect(silent).toEqual([]);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(50);

    /** A copy of the reference state, so ticking one does not disarm the next case. */
    function restoreFor(state: PartitionState): PartitionState {
      const copy = restore(stream, 3, state.committedOffset, takeCheckpoint(state));
      copy.lastEvents = new Map(state.lastEvents);
      return copy;
    }
  });

  it('detectors checkpointed at different offsets each resume from their own checkpoint', () => {
    const d = standardDetectors();
    const stream = streamSpec([d.threshold, d.shadow, d.zscore, d.freshness]);
    const messages = history();
    const reference = uninterrupted(stream, messages);
    const expected = collect(reference.perBatch);
    const crashAfter = 9; // committed up to offset 63
    const committed = collect(reference.perBatch.slice(0, crashAfter));
    const committedOffset = reference.perBatch[crashAfter - 1]!.nextOffset;
    expect(committedOffset).toBe(63n);

    const mixed: Checkpoint = new Map();
    const pick = (detectorSpec: DetectorSpec, batchIndex: number) => {
      mixed.set(detectorSpec.stateKey, reference.checkpoints[batchIndex]!.get(detectorSpec.stateKey)!);
    };
    pick(d.threshold, 9);
    pick(d.shadow, 5);
    pick(d.zscore, 2);
    pick(d.freshness, 7);
    const state = restore(stream, 3, committedOffset, mixed);
    expect(state.position).toBe(14n);

    const resumed = resume(stream, state, messages.slice(14), 11);
    expect([...committed.anomalies, ...resumed.anomalies]).toEqual(expected.anomalies);
    expect([...committed.deadLetters, ...resumed.deadLetters]).toEqual(expected.deadLetters);
    expect(committed.validEvents + resumed.validEvents).toBe(expected.validEvents);
    expect(detectorStateJson(state)).toEqual(detectorStateJson(reference.state));
  });

  it('a restart that forgot what was committed would repeat effects (the check above has teeth)', () => {
    const d = standardDetectors();
    const stream = streamSpec([d.threshold, d.shadow, d.zscore, d.freshness]);
    const messages = history();
    const reference = uninterrupted(stream, messages);
    const committed = collect(reference.perBatch.slice(0, 9)); // up to offset 63
    // Wrongly restored as if only offset 14 had been committed.
    const state = restore(stream, 3, 14n, reference.checkpoints[2]!);
    const resumed = processBatch(stream, state, messages.slice(14), LIMIT);
    const combined = summary([...committed.anomalies, ...resumed.anomalies]);
    expect(combined).not.toEqual(summary(collect(reference.perBatch).anomalies));
    expect(combined.filter((a) => a === '20:det_SHD')).toHaveLength(2);
  });
});

describe('tickPartition: FRESHNESS', () => {
  it('names the last event of the silent series and fires once per silence', () => {
    const { freshness, threshold } = standardDetectors();
    const stream = streamSpec([threshold, freshness]);
    const state = partitionState({ partition: 5 });
    // Event times ("at") lie an hour in the past: silence is judged by arrival (Kafka time).
    const backfilled = (i: number) => new Date(T0 - 3_600_000 + i).toISOString();
    processBatch(
      stream,
      state,
      [
        msg(0, { host: 'a', at: backfilled(0), latency_ms: 10 }, { timestamp: T0 }),
        msg(1, { host: 'b', at: backfilled(1), latency_ms: 20 }, { timestamp: T0 + 5_000 }),
        msg(2, { host: 'a', at: backfilled(2), latency_ms: 30 }, { key: 'last-a', timestamp: T0 + 10_000, headers: { traceparent: TRACEPARENT } }),
        msg(3, { host: 'b', at: backfilled(3), latency_ms: 40 }, { timestamp: T0 + 50_000 }),
      ],
      LIMIT,
    );

    expect(tickPartition(stream, state, T0 + 10_000 + 60_000)).toEqual([]); // exactly the limit: not yet
    const fired = tickPartition(stream, state, T0 + 10_000 + 61_000);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toEqual({
      streamId: 'str_PAYMENTS',
      detectorId: 'det_FRS',
      detectorVersion: 1,
      seriesKey: 'a',
      field: 'latency_ms',
      value: 30,
      score: 61 / 60,
      expected: null,
      lower: null,
      upper: 60,
      severity: 'CRITICAL',
      shadow: false,
      eventTime: new Date(backfilled(2)),
      explanation: expect.stringContaining('no latency_ms event for 61 s') as unknown as string,
      topic: 'vigil.payments',
      partition: 5,
      offset: 2n,
      eventKey: 'last-a',
      eventTimestamp: new Date(T0 + 10_000),
      schemaVersion: 4,
      traceparent: TRACEPARENT,
      silenceId: null,
    } satisfies NewAnomaly);

    // Once per silence: 'a' does not fire again; 'b' fires when its own gap passes.
    expect(tickPartition(stream, state, T0 + 10_000 + 90_000)).toEqual([]);
    const second = tickPartition(stream, state, T0 + 50_000 + 61_000);
    expect(second.map((a) => [a.seriesKey, a.offset])).toEqual([['b', 3n]]);
    expect(tickPartition(stream, state, T0 + 500_000)).toEqual([]);

    // A new event re-arms the series.
    processBatch(stream, state, [msg(4, { host: 'a', latency_ms: 1 }, { timestamp: T0 + 600_000 })], LIMIT);
    const rearmed = tickPartition(stream, state, T0 + 600_000 + 61_000);
    expect(rearmed.map((a) => [a.seriesKey, a.offset])).toEqual([['a', 4n]]);
  });

  it('marks a silence found by a SHADOW detector as shadow', () => {
    const shadowFresh = detector('det_SFR', 'FRESHNESS', 'latency_ms', { maxGapSeconds: 1 }, { mode: 'SHADOW' });
    const stream = streamSpec([shadowFresh]);
    const state = partitionState();
    processBatch(stream, state, [msg(0, { host: 'a', latency_ms: 1 }, { timestamp: T0 })], LIMIT);
    const fired = tickPartition(stream, state, T0 + 2_000);
    expect(fired.map((a) => a.shadow)).toEqual([true]);
  });

  it('skips a series not heard from since the partition was restored: there is no event to name', () => {
    const { freshness } = standardDetectors();
    const stream = streamSpec([freshness]);
    const state = partitionState({ position: 10n, committedOffset: 10n });
    state.detectors.set(freshness.stateKey, { nextOffset: 10n, series: { a: { last: T0, alertedFor: null } } });
    expect(tickPartition(stream, state, T0 + 3_600_000)).toEqual([]);
  });

  it('ignores non-time-driven detectors and keeps no last event for them', () => {
    const { threshold, zscore } = standardDetectors();
    const stream = streamSpec([threshold, zscore]);
    const state = partitionState();
    processBatch(stream, state, [msg(0, { host: 'a', latency_ms: 1 }, { timestamp: T0 })], LIMIT);
    expect(state.lastEvents.size).toBe(0);
    expect(tickPartition(stream, state, T0 + 10 * 3_600_000)).toEqual([]);
  });
});

describe('processBatch: synthetic canaries', () => {
  const SENT = T0 + 123_456;
  const canary = (offset: number, sentAt: string | number = SENT, value: string = CANARY_VALUE) =>
    msg(offset, value, { key: null, headers: { [CANARY_HEADER]: String(sentAt) } });

  /** A detector whose model records every value it is asked about. */
  function watched(d: DetectorSpec) {
    const observe = vi.fn(d.model.observe.bind(d.model));
    return { spec: { ...d, model: { ...d.model, observe } } as DetectorSpec, observe };
  }

  it('commits a canary without judging it: no contract, no detector, no dead letter; it is reported with its send time', () => {
    // max 0: any value a detector saw would be an anomaly.
    const strict = watched(detector('det_ANY', 'THRESHOLD', 'latency_ms', { max: 0 }, { severity: 'CRITICAL' }));
    const fresh = watched(standardDetectors().freshness);
    const stream = streamSpec([strict.spec, fresh.spec], {
      validate: compileValidator({ type: 'object', properties: { host: { type: 'string' } }, required: ['host'], additionalProperties: false }),
    });
    const state = partitionState({ position: 40n, committedOffset: 40n });
    const effects = processBatch(stream, state, [canary(40), canary(41, SENT + 1, 'not json at all'), msg(42, { host: 'a' })], LIMIT);

    expect(effects.canaries).toEqual([
      { offset: 40n, sentAt: SENT },
      { offset: 41n, sentAt: SENT + 1 },
    ]);
    expect(effects.deadLetters).toEqual([]);
    expect(effects.anomalies).toEqual([]);
    expect(effects.drift).toEqual([]);
    expect(effects.validEvents).toBe(1);
    expect(effects.nextOffset).toBe(43n);
    expect(strict.observe).not.toHaveBeenCalled();
    expect(fresh.observe).not.toHaveBeenCalled();
    // Silence is judged on events only: a canary is never the "last event" of a series.
    expect(state.lastEvents.size).toBe(0);
  });

  it('advances the offset over a batch of canaries only, touching no detector state', () => {
    const { threshold, zscore } = standardDetectors();
    const state = partitionState({ position: 7n, committedOffset: 7n });
    const effects = processBatch(streamSpec([threshold, zscore]), state, [canary(7), canary(8)], LIMIT);
    expect(effects).toEqual({
      anomalies: [],
      deadLetters: [],
      drift: [],
      validEvents: 0,
      untrackedEvents: 0,
      nextOffset: 9n,
      canaries: [
        { offset: 7n, sentAt: SENT },
        { offset: 8n, sentAt: SENT },
      ],
    });
    expect(state.detectors.size).toBe(0);
  });

  it('judges the events around a canary as if it were not there', () => {
    const { threshold } = standardDetectors();
    const state = partitionState();
    const effects = processBatch(
      streamSpec([threshold]),
      state,
      [msg(0, { host: 'a', latency_ms: 50 }), canary(1), msg(2, { host: 'a', latency_ms: 500 })],
      LIMIT,
    );
    expect(summary(effects.anomalies)).toEqual(['2:det_THR']);
    expect(effects.validEvents).toBe(2);
    expect(effects.canaries).toEqual([{ offset: 1n, sentAt: SENT }]);
  });

  it('does not report canaries again while replaying, but still reads past them', () => {
    const { threshold } = standardDetectors();
    const state = partitionState({ position: 0n, committedOffset: 2n });
    const effects = processBatch(streamSpec([threshold]), state, [canary(0), msg(1, { host: 'a', latency_ms: 500 }), canary(2)], LIMIT);
    expect(effects.canaries).toEqual([{ offset: 2n, sentAt: SENT }]);
    expect(effects.anomalies).toEqual([]);
    expect(effects.deadLetters).toEqual([]);
    expect(effects.nextOffset).toBe(3n);
  });

  it('skips a message with the header but an unreadable time without reporting or dead-lettering it', () => {
    const state = partitionState();
    const effects = processBatch(streamSpec([]), state, [canary(0, 'soon'), canary(1, -5), canary(2, '')], LIMIT);
    expect(effects.canaries).toEqual([]);
    expect(effects.deadLetters).toEqual([]);
    expect(effects.validEvents).toBe(0);
    expect(effects.nextOffset).toBe(3n);
  });

  it('canaryOf: the header marks a canary; a message without it is an event', () => {
    expect(canaryOf(msg(0, { host: 'a' }))).toBeUndefined();
    expect(canaryOf(msg(0, { host: 'a' }, { headers: { traceparent: TRACEPARENT } }))).toBeUndefined();
    expect(canaryOf(canary(0))).toEqual({ sentAt: SENT });
    expect(canaryOf(canary(0, '1.5'))).toEqual({ sentAt: null });
  });
});
