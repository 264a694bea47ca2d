/**
 * Where the driver's own consumer group reads control_topic from. The group is stable per
 * driver id, so a driver started again (after kill -9 too) resumes at its last committed
 * offsets and gets every ticket sent while it was away. A partition the group never committed
 * (the driver's first run) is pinned to its current end instead of replaying the whole history:
 * committed once, before the group's consumer starts, so that "where this driver started" is
 * also where a member that lost its session during a broker outage rejoins, rather than the
 * end of the moment it rejoins (which would skip the tickets produced meanwhile).
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import { ensureTopics } from "../shared/kafka/client.ts";
import { groupFor } from "../shared/kafka/topics.ts";

/** The consumer group of driver `driverId` on `controlTopic`: the same for every run. */
export function driverGroup(driverId: string, controlTopic: string): string {
  return groupFor(`ev-driver-${driverId}`, controlTopic);
}

/** A partition's offset as the admin client gives it ("-1": none committed). */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

/**
 * The partitions to pin: those of `ends` (each partition's current end) without a committed
 * offset in `committed`, at their end.
 */
export function offsetsToPin(
  ends: readonly PartitionOffset[],
  committed: readonly PartitionOffset[],
): PartitionOffset[] {
  const has = new Set(
    committed.filter((c) => BigInt(c.offset) >= 0n).map((c) => c.partition),
  );
  return ends
    .filter((e) => !has.has(e.partition))
    .map(({ partition, offset }) => ({ partition, offset }));
}

/**
 * Commits the current end of every partition of `topic` that `groupId` has no offset for yet;
 * leaves the others where the group's last run stopped. Returns how many it pinned. Throws if
 * there are some to pin while another member is in the group (kafkajs sets offsets only on an
 * empty group).
 */
export async function pinStartOffsets(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<number> {
  await ensureTopics(kafka, [topic]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const pin = offsetsToPin(ends, committed?.partitions ?? []);
    if (pin.length > 0) await admin.setOffsets({ groupId, topic, partitions: pin });
    return pin.length;
  } finally {
    await admin.disconnect();
  }
}

/** How many members `groupId` has now (this driver's own consumer included). */
export async function groupMembers(kafka: Kafka, groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.members.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}
