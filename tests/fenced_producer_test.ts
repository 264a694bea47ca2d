/**
 * Central's fenced producer on a real broker: a takeover fences every id of its ring, whichever
 * one the old holder would use next; sends stay in order although consecutive ones commit under
 * different ids; and a fenced holder cannot move a consumer group's offsets either.
 */
import assert from "node:assert/strict";
import { createKafka, ensureTopics } from "../shared/kafka/client.ts";
import { startConsumer } from "../shared/kafka/consumer.ts";
import { ProducerFenced, TransactionalProducer } from "../shared/kafka/producer.ts";
import { broker, E2E, eventually } from "./harness.ts";

/** The values of `topic` as Central's readers get them: uncommitted records too. */
async function readValues(bootstrap: string, topic: string, count: number) {
  const kafka = createKafka(bootstrap, "ring-reader");
  const consumer = kafka.consumer({
    groupId: `ring-reader-${crypto.randomUUID()}`,
    readUncommitted: true,
  });
  const values: { key: string; value: string }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        values.push({ key: String(message.key), value: String(message.value) });
        return Promise.resolve();
      },
    });
    await eventually(`${count} records in ${topic}`, () => values.length >= count);
    return values;
  } finally {
    await consumer.disconnect();
  }
}

Deno.test({
  name: "transaction ring: a takeover fences every id, whichever the old holder uses next",
  ...E2E,
  async fn() {
    const bootstrap = await broker();
    const kafka = createKafka(bootstrap, "ring-test");
    const topic = `ring-fence-${crypto.randomUUID()}`;
    await ensureTopics(kafka, [topic], 1);
    const id = `ring-fence-${crypto.randomUUID()}`;
    const ring = 3;
    for (let next = 0; next < ring; next++) {
      const old = new TransactionalProducer(kafka, id, ring);
      await old.connect();
      await old.fence();
      // `next` commits, so the old holder's open transaction is on the ring's id number `next`.
      for (let i = 0; i < next; i++) {
        await old.sendRaw(topic, [{ key: "k", value: `before ${next}.${i}` }]);
        await old.commit();
      }
      // Its partition is in the open transaction: a later produce needs no coordinator.
      await old.sendRaw(topic, [{ key: "k", value: `open ${next}` }]);
      const taker = new TransactionalProducer(kafka, id, ring);
      await taker.connect();
      await taker.fence();
      await assert.rejects(
        old.sendRaw(topic, [{ key: "k", value: `zombie ${next}` }]),
        ProducerFenced,
        `the old holder still wrote with id ${next} of the ring`,
      );
      await assert.rejects(old.commit(), ProducerFenced);
      await taker.sendRaw(topic, [{ key: "k", value: `taker ${next}` }]);
      await taker.commit();
      await old.disconnect().catch(() => {});
      await taker.disconnect();
    }
    // What the old holder wrote before the takeover was read (even where the takeover aborted
    // its transaction); nothing after it.
    const values = (await readValues(bootstrap, topic, 9)).map((r) => r.value);
    assert.deepEqual(values, [
      "open 0",
      "taker 0",
      "before 1.0",
      "open 1",
      "taker 1",
      "before 2.0",
      "before 2.1",
      "open 2",
      "taker 2",
    ]);
  },
});

Deno.test({
  name: "transaction ring: sends reach readers in order across commits on the ring's ids",
  ...E2E,
  async fn() {
    const bootstrap = await broker();
    const kafka = createKafka(bootstrap, "ring-test");
    const topic = `ring-order-${crypto.randomUUID()}`;
    await ensureTopics(kafka, [topic], 3);
    const producer = new TransactionalProducer(kafka, `ring-order-${crypto.randomUUID()}`);
    await producer.connect();
    await producer.fence();
    const n = 60;
    for (let i = 0; i < n; i++) {
      await producer.sendRaw(topic, [{ key: `cp${i % 4}`, value: String(i) }]);
      if (i % 7 === 6) await producer.commit(); // as the claim's heartbeat does, on the ring
    }
    await producer.disconnect();
    const got = await readValues(bootstrap, topic, n);
    for (let cp = 0; cp < 4; cp++) {
      const sent = Array.from({ length: n }, (_, i) => i).filter((i) => i % 4 === cp);
      const seen = got.filter((r) => r.key === `cp${cp}`).map((r) => Number(r.value));
      assert.deepEqual(seen, sent, `cp${cp}'s records out of order`);
    }
  },
});

Deno.test({
  name: "fenced producer: a holder that lost the claim cannot commit what its consumer read",
  ...E2E,
  async fn() {
    const bootstrap = await broker();
    const kafka = createKafka(bootstrap, "ring-test");
    const topic = `fenced-offsets-${crypto.randomUUID()}`;
    const groupId = `fenced-offsets-${crypto.randomUUID()}`;
    const id = `fenced-offsets-${crypto.randomUUID()}`;
    await ensureTopics(kafka, [topic], 1);
    const plain = kafka.producer();
    await plain.connect();
    const write = (value: string) => plain.send({ topic, messages: [{ key: "r", value }] });

    // The holder reads and commits "one" through its producer, then is fenced and reads "two".
    const holder = new TransactionalProducer(kafka, id);
    await holder.connect();
    await holder.fence();
    const read = (into: string[], committer: TransactionalProducer) =>
      startConsumer<string>({
        kafka,
        groupId,
        topics: [topic],
        fromBeginning: true,
        parse: (raw) => String(raw),
        onBatch: (batch) => void into.push(...batch.map((m) => m.message)),
        commitOffsets: (g, offsets) => committer.commitOffsets(g, offsets),
      });
    const seen: string[] = [];
    await write(JSON.stringify("one"));
    const first = await read(seen, holder);
    await eventually("the holder reads one", () => seen.includes("one"));
    // Its consumer commits every second, in a transaction of the producer.
    await eventually("one committed", async () => {
      const admin = kafka.admin();
      await admin.connect();
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      await admin.disconnect();
      return t.partitions[0].offset !== "-1";
    });
    const taker = new TransactionalProducer(kafka, id);
    await taker.connect();
    await taker.fence();
    await write(JSON.stringify("two"));
    await eventually("the fenced holder reads two", () => seen.includes("two"));
    await assert.rejects(holder.commitOffsets(groupId, [{ topic, partition: 0, offset: "99" }]));
    await first.stop(); // its last offsets, after "two", are refused too

    // The taker's reader starts where the group's committed offsets say: at "two".
    const again: string[] = [];
    const second = await read(again, taker);
    await eventually("the taker reads two", () => again.includes("two"));
    assert.deepEqual(again, ["two"]);
    await taker.commit();
    await second.stop();
    await Promise.all([
      plain.disconnect(),
      holder.disconnect().catch(() => {}),
      taker.disconnect(),
    ]);
  },
});
