import { createRequire } from 'node:module';

/**
 * Removes members from a consumer group, on behalf of processes that died
 * without leaving it: the LeaveGroup request a member sends on a clean stop,
 * naming the dead member's id. The coordinator then rebalances at once instead
 * of waiting for the dead member's session to time out.
 *
 * kafkajs' public API has no call for it (its admin can only delete empty
 * groups), so this reaches into kafkajs 2.2's own cluster client, as its
 * consumer does to leave: `Cluster`, its logger and socket factory. kafkajs
 * 2.2.4 is the last release; the types below are what this file uses of them.
 */
interface Coordinator {
  leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown>;
}
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<Coordinator>;
}
type ClusterOptions = Record<string, unknown>;

const require = createRequire(import.meta.url);
const KafkajsCluster = require('kafkajs/src/cluster') as new (options: ClusterOptions) => Cluster;
const { createLogger, LEVELS } = require('kafkajs/src/loggers') as { createLogger(options: { level: number; logCreator: () => () => void }): unknown; LEVELS: { NOTHING: number } };
const socketFactory = require('kafkajs/src/network/socketFactory') as () => unknown;

export interface LeaveOutcome {
  memberId: string;
  /** Null: removed. Otherwise why not (most often: its session had already timed out, UNKNOWN_MEMBER_ID). */
  error: string | null;
}

/** Asks the group's coordinator to remove each member; one outcome per member, never a throw for one of them. */
export async function removeGroupMembers(options: { brokers: string[]; clientId: string; groupId: string; memberIds: string[] }): Promise<LeaveOutcome[]> {
  if (options.memberIds.length === 0) return [];
  const cluster = new KafkajsCluster({
    brokers: options.brokers,
    clientId: options.clientId,
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => undefined }),
    socketFactory: socketFactory(),
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    enforceRequestTimeout: true,
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 2 },
  });
  try {
    await cluster.connect();
    const coordinator = await cluster.findGroupCoordinator({ groupId: options.groupId });
    const outcomes: LeaveOutcome[] = [];
    for (const memberId of options.memberIds) {
      const error = await coordinator.leaveGroup({ groupId: options.groupId, memberId }).then(
        () => null,
        (failure: Error) => failure.message,
      );
      outcomes.push({ memberId, error });
    }
    return outcomes;
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}
