import { AssignerProtocol } from 'kafkajs';
import { kafkaClient, sleep } from './kit.ts';

export type Admin = ReturnType<ReturnType<typeof kafkaClient>['admin']>;
export type Member = { clientId: string; partitions: number[] };

/** A Kafka consumer group, and the topic whose partitions its members are asked about. */
export interface GroupOnTopic {
  kafkaGroup: string;
  topic: string;
}

/** The group as Kafka sees it: its state, and each member's client id and partitions of the topic. */
export async function describeGroup(admin: Admin, on: GroupOnTopic): Promise<{ state: string; members: Member[] }> {
  const { groups } = await admin.describeGroups([on.kafkaGroup]);
  const members = (groups[0]?.members ?? []).map((member) => {
    const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    return { clientId: member.clientId, partitions: [...(assignment?.assignment[on.topic] ?? [])].sort((a, b) => a - b) };
  });
  return { state: groups[0]?.state ?? 'Unknown', members };
}

/** Stable, with `processes` members holding partitions. */
export const settled = ({ state, members }: { state: string; members: Member[] }, processes: number) =>
  state === 'Stable' && members.filter((m) => m.partitions.length > 0).length === processes;

/** The members once the group is Stable with `processes` of them holding partitions (a short run can end mid-rebalance), or as they are after `ms`. */
export async function settledMembers(admin: Admin, on: GroupOnTopic, processes: number, ms = 30_000): Promise<Member[]> {
  for (const deadline = performance.now() + ms; ; await sleep(500)) {
    const described = await describeGroup(admin, on);
    if (settled(described, processes) || performance.now() > deadline) return described.members;
  }
}
