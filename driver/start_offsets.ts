/**
 * A new consumer group that starts "from the end" only resolves that end for the partitions
 * it has committed nothing on each time it joins. A driver's group commits a partition only
 * once a record came from it, so after a broker outage (the member lost its session and
 * rejoins) the partitions still without a commit would start at their end again, past the
 * tickets produced meanwhile. Committing every partition's end once, before the group's
 * consumer starts, makes "where this driver started" the rejoin point of every partition.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import { ensureTopics } from "../shared/kafka/client.ts";

/** Commits the current end of every partition of `topic` as `groupId`'s offsets. */
export async function pinStartOffsets(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  await ensureTopics(kafka, [topic]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: ends.map(({ partition, offset }) => ({ partition, offset })),
    });
  } finally {
    await admin.disconnect();
  }
}
