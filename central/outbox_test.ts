import assert from "node:assert/strict";
import { eventually } from "../shared/process/eventually.ts";
import type { OutboxRow } from "./db.ts";
import { ProducerFenced } from "../shared/kafka/producer.ts";
import { OutboxSender, type OutboxStore, type RawProducer } from "./outbox.ts";

/** An outbox table in memory: rows in order, removed when sent. */
function memoryStore(): OutboxStore & { add(body: string): void; rows: OutboxRow[] } {
  const rows: OutboxRow[] = [];
  let seq = 0;
  return {
    rows,
    add(body) {
      seq++;
      rows.push({ seq, message_id: `m${seq}`, msg_key: "CP-01", body });
    },
    pendingOutbox: () => rows.slice(0, 2), // small pages: a drain takes several sends
    sent(ids) {
      for (const id of ids) rows.splice(rows.findIndex((r) => r.message_id === id), 1);
    },
  };
}

/** A producer that refuses while `down` is true and records what it took. */
function producer(): RawProducer & { taken: string[]; down: boolean; attempts: number } {
  return {
    taken: [],
    down: false,
    attempts: 0,
    sendRaw(_topic, messages) {
      this.attempts++;
      if (this.down) return Promise.reject(new Error("broker away"));
      this.taken.push(...messages.map((m) => m.value));
      return Promise.resolve();
    },
  };
}

Deno.test("outbox: everything goes out in order, each row deleted once Kafka took it", async () => {
  const store = memoryStore();
  for (const b of ["a", "b", "c"]) store.add(b);
  const sender = new OutboxSender(store, "control", 10);
  const kafka = producer();
  sender.start(kafka); // what a previous run left is sent at start
  store.add("d"); // written during the drain: the drain goes on until the table is empty
  sender.flush();
  await eventually("the outbox to empty", () => store.rows.length === 0, 5000);
  assert.deepEqual(kafka.taken, ["a", "b", "c", "d"]);
  await sender.stop();
});

Deno.test("outbox: while Kafka refuses, nothing is lost and it is retried until taken", async () => {
  const store = memoryStore();
  const sender = new OutboxSender(store, "control", 10);
  const kafka = producer();
  kafka.down = true;
  sender.start(kafka);
  store.add("ticket");
  sender.flush();
  await eventually("a few refused attempts", () => kafka.attempts >= 3, 5000);
  assert.deepEqual(store.rows.map((r) => r.body), ["ticket"], "kept while refused");
  kafka.down = false;
  await eventually("the ticket to be taken", () => store.rows.length === 0, 5000);
  assert.deepEqual(kafka.taken, ["ticket"]);
  await sender.stop();
});

Deno.test("outbox: stopped while Kafka refuses, it ends at once and keeps the rows", async () => {
  const store = memoryStore();
  const sender = new OutboxSender(store, "control", 60_000);
  const kafka = producer();
  kafka.down = true;
  store.add("ticket");
  sender.start(kafka);
  await eventually("the first refusal", () => kafka.attempts === 1, 5000);
  await sender.stop(); // does not wait a minute for the next attempt
  assert.equal(kafka.attempts, 1);
  assert.equal(store.rows.length, 1);
});

Deno.test("outbox: a refused batch is sent again as it was, rows written meanwhile after it", async () => {
  const store = memoryStore();
  const sender = new OutboxSender(store, "control", 10);
  const batches: string[][] = [];
  const kafka = producer();
  const send = kafka.sendRaw.bind(kafka);
  kafka.sendRaw = (topic, messages) => {
    batches.push(messages.map((m) => m.value));
    return send(topic, messages);
  };
  kafka.down = true;
  store.add("a");
  sender.start(kafka);
  await eventually("a refusal", () => kafka.attempts >= 1, 5000);
  store.add("b"); // a transaction's retry must repeat its batch (same sequence numbers)
  sender.flush();
  await eventually("another refusal", () => kafka.attempts >= 2, 5000);
  kafka.down = false;
  await eventually("the outbox to empty", () => store.rows.length === 0, 5000);
  assert.ok(
    batches.every((b, i) => i === batches.length - 1 || b.join() === "a"),
    batches.join("|"),
  );
  assert.deepEqual(batches.at(-1), ["b"]);
  assert.deepEqual(kafka.taken, ["a", "b"]);
  await sender.stop();
});

Deno.test("outbox: once the producer is fenced it stops at once, keeps the rows and says so", async () => {
  const store = memoryStore();
  const fenced: string[] = [];
  const sender = new OutboxSender(store, "control", 10, (why) => fenced.push(why));
  const kafka = producer();
  kafka.sendRaw = () => {
    kafka.attempts++;
    return Promise.reject(new ProducerFenced("a newer producer holds the id"));
  };
  store.add("ticket");
  sender.start(kafka);
  await eventually("the fence to be reported", () => fenced.length === 1, 5000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(kafka.attempts, 1, "never retried");
  assert.deepEqual(fenced, ["a newer producer holds the id"]);
  assert.equal(store.rows.length, 1);
  await sender.stop();
});
