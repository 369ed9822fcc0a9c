import type { Logger } from 'pino';
import { recordProcessingError, recordSilenceAnomalies } from '../telemetry/metrics.ts';
import type { Announcer } from './announce.ts';
import { insertAnomalies } from './effects-store.ts';
import { seekToPosition, type PartitionStates } from './partition-restore.ts';
import type { WorkerPorts } from './ports.ts';
import { tickPartition } from './process-batch.ts';
import type { TopicMembership } from './topic-membership.ts';

/**
 * Silence is found by the clock, not by an event: FRESHNESS detectors of
 * owned partitions are asked each tick. A silent partition may send no
 * batch after a restart, so it is restored here too; silence is judged only
 * once its detector state has caught up with the position of record.
 */
export async function checkSilence(
  parts: { ports: Pick<WorkerPorts, 'db'>; membership: TopicMembership; states: PartitionStates; announcer: Announcer; log: Logger },
  now = Date.now(),
): Promise<void> {
  const { membership, states, log } = parts;
  for (const { topic, partition } of membership.assigned) {
    const stream = membership.stream(topic);
    if (!stream || !stream.detectors.some((d) => d.kind === 'FRESHNESS')) continue;
    try {
      const state = await states.get(stream, partition);
      if (state.position < state.committedOffset) {
        // The checkpoint is older than the offsets of record: re-read from it before judging anyone silent.
        seekToPosition(state, membership.consumer);
        continue;
      }
      const found = tickPartition(stream, state, now);
      const inserted = await insertAnomalies(parts.ports.db, found, membership.catalog.groupingContext());
      recordSilenceAnomalies(stream.name, inserted.anomalies);
      await parts.announcer.announce(stream, { ...inserted, deadLetters: [] });
    } catch (error) {
      recordProcessingError(stream.name, 'freshness');
      log.warn({ topic, partition, err: error }, 'freshness check failed');
    }
  }
}
