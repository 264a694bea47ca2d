import assert from "node:assert/strict";
import type { EachBatchPayload, Kafka } from "kafkajs";
import { eventually } from "../process/eventually.ts";
import { startConsumer } from "./consumer.ts";

const TOPIC = "orders";

/** A kafkajs consumer stand-in: joins and fetches when told, and hands batches over. */
class FakeConsumer {
  readonly events = { GROUP_JOIN: "join", FETCH: "fetch", CRASH: "crash" };
  readonly #handlers = new Map<string, ((e: unknown) => void)[]>();
  #eachBatch?: (p: EachBatchPayload) => Promise<void>;
  disconnects = 0;
  /** Its connection is dead (as after a partition): disconnecting never finishes. */
  dead = false;
  readonly committed: unknown[] = [];

  on(event: string, fn: (e: unknown) => void) {
    this.#handlers.set(event, [...this.#handlers.get(event) ?? [], fn]);
  }
  emit(event: string, payload: unknown = {}) {
    for (const fn of this.#handlers.get(event) ?? []) fn({ payload });
  }
  connect() {
    return Promise.resolve();
  }
  subscribe() {
    return Promise.resolve();
  }
  run({ eachBatch }: { eachBatch: (p: EachBatchPayload) => Promise<void> }) {
    this.#eachBatch = eachBatch;
    // Joins and fetches at once, as a consumer on a healthy broker does.
    queueMicrotask(() => {
      this.emit("join");
      this.emit("fetch");
    });
    return Promise.resolve();
  }
  disconnect() {
    this.disconnects++;
    return this.dead ? new Promise<void>(() => {}) : Promise.resolve();
  }
  commitOffsets(offsets: unknown[]) {
    this.committed.push(...offsets);
    return Promise.resolve();
  }
  /** Hands over one record, as kafkajs' fetch loop would. */
  deliver(offset: number, value: string): Promise<void> {
    const message = { offset: String(offset), timestamp: "0", key: null, value: enc(value) };
    return this.#eachBatch!({
      batch: { topic: TOPIC, partition: 0, messages: [message], lastOffset: () => String(offset) },
      heartbeat: () => Promise.resolve(),
    } as unknown as EachBatchPayload);
  }
}

const enc = (s: string) => new TextEncoder().encode(s);

function fakeKafka() {
  const consumers: FakeConsumer[] = [];
  const admin = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    listTopics: () => Promise.resolve([TOPIC]),
    fetchTopicMetadata: () =>
      Promise.resolve({ topics: [{ name: TOPIC, partitions: [{ leader: 1 }] }] }),
  };
  const kafka = {
    admin: () => admin,
    consumer: () => {
      const c = new FakeConsumer();
      consumers.push(c);
      return c;
    },
  } as unknown as Kafka;
  return { kafka, consumers };
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test("a consumer with stallRebuildMs whose fetches stop is rebuilt: the new one takes the records, the stalled one's late batch is dropped", async () => {
  const { kafka, consumers } = fakeKafka();
  const seen: string[] = [];
  const running = await startConsumer({
    kafka,
    groupId: "g",
    topics: [TOPIC],
    fromBeginning: true,
    parse: (raw) => raw as string,
    onBatch: (ms) => void seen.push(...ms.map((m) => m.message)),
    stallRebuildMs: 200,
    log: quiet as never,
  });
  try {
    const [first] = consumers;
    await first.deliver(0, '"before"');
    first.dead = true;
    // No fetch completes any more (a dead socket): a new consumer is built without waiting
    // for the old one to leave.
    const second = await eventually("a new consumer", () => consumers[1], 3000);
    assert.equal(first.disconnects, 1);
    await eventually("the new one fetches", () => second.deliver(1, '"after"').then(() => true));
    // The old one wakes up with a batch (its fetch was still in flight): not handled twice.
    await first.deliver(1, '"after"');
    assert.deepEqual(seen, ["before", "after"]);
  } finally {
    await running.stop();
  }
});
