/**
 * The parts of the worker's work that it cannot avoid, each alone and timed
 * on the batches a raw kafkajs drain received: JSON.parse, the contract, the
 * detector, and the PostgreSQL write of the anomalies with their offsets.
 * Each is timed three times and the median kept (the write after a cold pass).
 * Each part calls the worker's own code (the catalog's StreamSpec, its
 * compiled validator and detector model, commitBatch); processBatch, the
 * worker's pure core (decode + contract + detector + effects), is timed too.
 */
import type { Config } from '../src/core/config.ts';
import type { Db } from '../src/store/db.ts';
import type { StreamSpec } from '../src/stream/catalog.ts';
import { commitBatch } from '../src/stream/effects-store.ts';
import { emptyPartitionState, type PartitionState } from '../src/stream/partition-state.ts';
import { processBatch, type BatchEffects } from '../src/stream/process-batch.ts';
import { median, timed, type CapturedBatch, type Rate } from './kit.ts';

export interface Parts {
  parse: Rate;
  validate: Rate;
  detector: Rate;
  write: Rate;
  /** The write's first pass, while V8 still compiles the Prisma client's code: not in the sum. */
  writeCold: Rate;
  /** processBatch over the same batches: not a part, the worker's whole pure core. */
  core: Rate;
  anomalies: number;
  /** Anomalies the detector alone found: the same as the core's when both read the same events. */
  detectorAnomalies: number;
  transactions: number;
}

/** Where the write part puts its rows: a stream of its own with a detector of the same kind, so nothing collides with the worker's. */
export interface Scratch {
  streamId: string;
  detectorId: string;
  topic: string;
  groupId: string;
}

interface Extracted {
  series: string[];
  values: number[];
  times: number[];
}

export async function measureParts(
  db: Db,
  config: Config,
  stream: StreamSpec,
  batches: CapturedBatch[],
  events: number,
  scratch: Scratch,
): Promise<Parts> {
  const detector = stream.detectors[0];
  if (!detector || stream.detectors.length !== 1) throw new Error(`the bench stream must have exactly one detector, has ${stream.detectors.length}`);

  let parsed: unknown[][] = [];
  const parse = await medianOf(() => {
    parsed = batches.map(() => []);
    return timed(events, () => {
      for (let b = 0; b < batches.length; b++) {
        const out = parsed[b]!;
        for (const message of batches[b]!.messages) out.push(JSON.parse(message.value!.toString('utf8')));
      }
    });
  });

  const validate = stream.validate;
  validate(parsed[0]![0]); // compiled on its first call, as in the worker: compiling is not per event
  let refused = 0;
  const validation = await medianOf(() =>
    timed(events, () => {
      for (const values of parsed) for (const value of values) if (!validate(value).ok) refused++;
    }),
  );
  if (refused > 0) throw new Error(`${refused} seeded events failed the contract`);

  // Field reads and the timestamp's Date.parse belong to decoding, not to the detector: done beforehand.
  const extracted: Extracted[] = parsed.map((values) => {
    const out: Extracted = { series: [], values: [], times: [] };
    for (const value of values as { host: string; latency_ms: number; at: string }[]) {
      out.series.push(value.host);
      out.values.push(value.latency_ms);
      out.times.push(Date.parse(value.at));
    }
    return out;
  });
  const model = detector.model;
  let detectorAnomalies = 0;
  const detection = await medianOf(() => {
    // Each pass from fresh states, as the first: the same events, the same anomalies.
    const states = new Map<string, unknown>();
    detectorAnomalies = 0;
    return timed(events, () => {
      for (const batch of extracted) {
        for (let i = 0; i < batch.values.length; i++) {
          const key = batch.series[i]!;
          let state = states.get(key);
          if (state === undefined) states.set(key, (state = model.newState()));
          if (model.observe(state, batch.values[i]!, batch.times[i]!).anomalous) detectorAnomalies++;
        }
      }
    });
  });

  let effects: BatchEffects[] = [];
  const core = await medianOf(() => {
    const partitions = new Map<number, PartitionState>();
    effects = [];
    return timed(events, () => {
      for (const batch of batches) {
        let state = partitions.get(batch.partition);
        if (!state) partitions.set(batch.partition, (state = emptyPartitionState(stream.topic, batch.partition)));
        const found = processBatch(stream, state, batch.messages, config.maxEventBytes, config);
        state.position = found.nextOffset;
        effects.push(found);
      }
    });
  });
  const anomalies = effects.reduce((sum, e) => sum + e.anomalies.length, 0);

  // One transaction per batch as the worker commits it, partitions written concurrently as its 3 concurrent partitions do.
  const byPartition = new Map<number, BatchEffects[]>();
  batches.forEach((batch, i) => {
    const list = byPartition.get(batch.partition) ?? [];
    list.push(effects[i]!);
    byPartition.set(batch.partition, list);
  });
  const writeAll = (target: Scratch) => {
    const pieces = [...byPartition].map(([partition, list]) => ({ partition, list: list.map((e) => onScratch(e, target)) }));
    return timed(events, () =>
      Promise.all(
        pieces.map(async ({ partition, list }) => {
          for (const piece of list) await commitBatch(db, target.groupId, { topic: target.topic, partition, epoch: 0 }, piece, []);
        }),
      ),
    );
  };
  /**
   * A cold pass, then the timed ones, each on a scratch topic of its own (the rows of each are new):
   * the first pass runs the Prisma client's code before V8 has compiled it, and cost the first kind of
   * a run about twice as much as the next ones (0.9-1.8 µs more per event), which made that kind's
   * sum larger and its ratio smaller. The worker is timed warm too (after its cold run).
   */
  const onTopic = (suffix: string): Scratch => ({ ...scratch, topic: `${scratch.topic}-${suffix}`, groupId: `${scratch.groupId}-${suffix}` });
  const writeCold = await writeAll(onTopic('cold'));
  let pass = 0;
  const write = await medianOf(() => writeAll(onTopic(`warm-${++pass}`)));
  return { parse, validate: validation, detector: detection, write, writeCold, core, anomalies, detectorAnomalies, transactions: batches.length };
}

/** Each part is timed PART_RUNS times and the median by CPU per event kept: one pass moves by 15-30 % on a shared machine. */
const PART_RUNS = 3;

async function medianOf(pass: () => Promise<Rate>): Promise<Rate> {
  const rates: Rate[] = [];
  for (let run = 0; run < PART_RUNS; run++) rates.push(await pass());
  return median(rates, 'cpuMicrosPerEvent');
}

/** The worker's effects of a batch, written under the scratch stream: anomalies and the offset, no chart points or drift notices. */
function onScratch(effects: BatchEffects, scratch: Scratch): BatchEffects {
  return {
    anomalies: effects.anomalies.map((a) => ({ ...a, streamId: scratch.streamId, detectorId: scratch.detectorId, topic: scratch.topic })),
    deadLetters: effects.deadLetters.map((d) => ({ ...d, streamId: scratch.streamId, topic: scratch.topic })),
    drift: [],
    validEvents: effects.validEvents,
    untrackedEvents: effects.untrackedEvents,
    nextOffset: effects.nextOffset,
    canaries: [],
  };
}
