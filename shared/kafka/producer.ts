/**
 * A producer of JSON messages, keyed by CP id so that one CP's messages stay in order, and
 * acknowledged by every in-sync replica before a send resolves.
 *
 * @module
 */
import {
  type Kafka,
  Partitioners,
  type Producer,
  type RecordMetadata,
  type TopicPartitionOffset,
  type Transaction,
} from "kafkajs";
import { errorText } from "../process/log.ts";
import { accessDenied } from "./access.ts";

/** A producer of JSON messages. */
export class JsonProducer {
  readonly #producer: Producer;
  readonly #kafka: Kafka;

  constructor(kafka: Kafka) {
    this.#kafka = kafka;
    this.#producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  /** Connects; a refusal of the credentials is a `KafkaAccessDenied` (access.ts). */
  async connect(): Promise<void> {
    try {
      await this.#producer.connect();
    } catch (e) {
      throw accessDenied(e, this.#kafka) ?? e;
    }
  }

  /** Sends messages to `topic`, each keyed (by CP id) so one CP's messages stay in order. */
  async send(topic: string, messages: { key: string; value: unknown }[]): Promise<void> {
    if (messages.length === 0) return;
    await this.sendRaw(
      topic,
      messages.map((m) => ({ key: m.key, value: JSON.stringify(m.value) })),
    );
  }

  /**
   * Sends values that are already JSON text (with headers, e.g. a CP's code on them). An ACL
   * that forbids it is a final `KafkaAccessDenied` (access.ts) naming the user and the topic.
   */
  async sendRaw(
    topic: string,
    messages: { key: string; value: string; headers?: Record<string, string> }[],
  ): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.#producer.send({ topic, acks: -1, messages });
    } catch (e) {
      throw accessDenied(e, this.#kafka, `write to topic ${topic}`) ?? e;
    }
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect();
  }
}

/** Offsets waiting for the next commit, and the callers waiting for it. */
interface PendingOffsets {
  offsets: Map<string, TopicPartitionOffset>;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

/** Thrown once another producer took the transactional id: nothing this one sends counts. */
export class ProducerFenced extends Error {
  override name = "ProducerFenced";
}

/**
 * Thrown after a commit whose outcome kafkajs lost (the broker went away during EndTxn):
 * kafkajs cannot begin another transaction on this producer, so it must be built and its
 * id taken again ({@link TransactionalProducer.renew}).
 */
export class ProducerWedged extends Error {
  override name = "ProducerWedged";
}

/** Broker error codes that mean "a newer producer holds this transactional id". */
const FENCED_TYPES = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"]);

/**
 * Whether `e` (or an error it wraps) says this producer was fenced. kafkajs 2.2 knows
 * INVALID_PRODUCER_EPOCH (47) but not PRODUCER_FENCED (90), which it reports as an unknown code.
 */
export function isFenced(e: unknown): boolean {
  for (let cause = e, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const type = (cause as { type?: string }).type;
    if (type !== undefined && FENCED_TYPES.has(type)) return true;
    if (/Unknown error code 90\b/.test(cause.message)) return true;
    cause = (cause as { cause?: unknown }).cause ??
      (cause as { originalError?: unknown }).originalError;
  }
  return false;
}

/**
 * How many transactional ids a {@link TransactionalProducer} takes turns with. A transaction
 * begun on an id right after its commit is refused (CONCURRENT_TRANSACTIONS) until the broker
 * has written that commit's markers, and kafkajs retries after a pause that the next send would
 * wait out: the next transaction goes on the other id.
 */
export const TRANSACTION_RING = 2;

/**
 * A producer that Kafka fences: its records go into transactions of a ring of transactional
 * ids, taken together ({@link fence}). Once another producer has taken the ids, Kafka has
 * raised each one's epoch, and the broker refuses every later produce, offset commit and
 * commit of this one: a process that lost its claim cannot write anything after the takeover.
 *
 * The transactions are there for that check at produce time, not to hide records until they
 * commit: the readers of what Central writes read uncommitted records (startConsumer), so a
 * record counts from the moment every replica has it, as with a plain producer, and costs the
 * broker one produce. {@link commit} ends the open transaction (the claim's heartbeat does,
 * every second) and the next one begins on the ring's next id; a transaction that a takeover
 * aborts loses nothing its readers saw, and is as much before the takeover as they are.
 *
 * Sends run one at a time, in order: each is acknowledged before the next is produced. A
 * commit takes nothing from them: it moves the sends on to the ring's next id, then ends the
 * previous transaction (its consumers' offsets first) beside them. A send that failed may have
 * reached the log (its answer lost) and is sent again by the caller: readers drop the copy by
 * message id.
 */
export class TransactionalProducer {
  readonly #slots: { producer: Producer; txn?: Transaction }[];
  /** The slot of the open (or next) transaction: it moves on at each commit. */
  #next = 0;
  /** Sends (and the switch to the next id), one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Commits, one at a time: a slot is begun again only after its commit ended. */
  #commits: Promise<unknown> = Promise.resolve();
  /** Offsets to commit in the next commit, per consumer group, with who waits for them. */
  #offsets = new Map<string, PendingOffsets>();
  #wedged = false;

  /** `ring`: how many ids, `transactionalId` and then `transactionalId.1`, `.2`, … */
  constructor(
    readonly kafka: Kafka,
    readonly transactionalId: string,
    readonly ring = TRANSACTION_RING,
  ) {
    this.#slots = this.ids().map((id) => ({ producer: this.#build(id) }));
  }

  /** The ring's transactional ids. */
  ids(): string[] {
    return Array.from(
      { length: this.ring },
      (_, i) => i === 0 ? this.transactionalId : `${this.transactionalId}.${i}`,
    );
  }

  #build(transactionalId: string): Producer {
    return this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      // CONCURRENT_TRANSACTIONS (see TRANSACTION_RING) lasts a few ms: kafkajs' default first
      // pause is 300 ms.
      retry: { initialRetryTime: 10, retries: 8, maxRetryTime: 2000 },
      // A frozen or cut-off holder's open transaction holds back the offsets committed in it
      // until it ends: a takeover aborts it at once; without one, the broker does after this.
      transactionTimeout: 60_000,
    });
  }

  async connect(): Promise<void> {
    try {
      await Promise.all(this.#slots.map((s) => s.producer.connect()));
    } catch (e) {
      throw accessDenied(e, this.kafka) ?? e;
    }
  }

  /**
   * Takes every id of the ring now: every earlier producer with them is fenced from here on.
   * Until it resolves an earlier holder may still write with an id not taken yet; the
   * takeover is complete, and this producer's first send comes, only after all are.
   */
  fence(): Promise<void> {
    return this.#serial(() => this.#takeAll());
  }

  async #takeAll(): Promise<void> {
    for (const slot of this.#slots) {
      const txn = await slot.producer.transaction(); // InitProducerId, the first time
      await txn.abort(); // nothing in it: no request
    }
  }

  /**
   * After {@link ProducerWedged}: new kafkajs producers that take the ids again. Only for a
   * caller that knows no other process took them meanwhile (it would be fenced).
   */
  renew(): Promise<void> {
    return this.#serial(async () => {
      await Promise.all(this.#slots.map((s) => s.producer.disconnect().catch(() => {})));
      this.ids().forEach((id, i) => this.#slots[i] = { producer: this.#build(id) });
      this.#next = 0;
      await this.connect();
      await this.#takeAll();
      this.#wedged = false;
    });
  }

  /** Sends JSON texts; resolves once every replica has them (fenced, see the class). */
  sendRaw(
    topic: string,
    messages: { key: string; value: string }[],
  ): Promise<RecordMetadata[]> {
    if (messages.length === 0) return Promise.resolve([]);
    return this.#inTransaction((txn) => txn.send({ topic, acks: -1, messages })).catch((e) => {
      throw accessDenied(
        e,
        this.kafka,
        `write to topic ${topic} (transactional id ` +
          `${this.transactionalId})`,
      ) ?? e;
    });
  }

  /**
   * Commits a consumer group's offsets in a {@link commit} begun now (or in the one that
   * follows the commit under way): resolves once it ends. They never take effect when a
   * takeover fenced this producer, so what a Central read after losing the network is read
   * again by the one that took it over.
   */
  commitOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    const pending = this.#offsets.get(groupId) ??
      { offsets: new Map<string, TopicPartitionOffset>(), waiters: [] };
    this.#offsets.set(groupId, pending);
    for (const o of offsets) pending.offsets.set(`${o.topic}/${o.partition}`, o);
    const done = new Promise<void>((resolve, reject) => pending.waiters.push({ resolve, reject }));
    this.commit().catch(() => {/* told through `done` */});
    return done;
  }

  /**
   * Ends the open transaction, with the offsets given since the last commit, and moves the
   * sends on to the ring's next id (at once: they do not wait for this commit). A commit whose
   * outcome was lost wedges the producer ({@link ProducerWedged}).
   */
  commit(): Promise<void> {
    const run = this.#commits.then(() => this.#commitNow());
    this.#commits = run.catch(() => {});
    return run;
  }

  async #commitNow(): Promise<void> {
    const offsets = this.#offsets;
    this.#offsets = new Map();
    const waiters = [...offsets.values()].flatMap((p) => p.waiters);
    try {
      // After the send under way, if any: its records come before every later one's.
      const slot = await this.#serial(() => {
        this.#checkWedged();
        const slot = this.#slots[this.#next];
        this.#next = (this.#next + 1) % this.#slots.length;
        return Promise.resolve(slot);
      });
      try {
        if (offsets.size > 0) slot.txn ??= await slot.producer.transaction();
        for (const [groupId, pending] of offsets) {
          const topics = [...Map.groupBy(pending.offsets.values(), (o) => o.topic)].map((
            [topic, list],
          ) => ({
            topic,
            partitions: list.map(({ partition, offset }) => ({ partition, offset })),
          }));
          await slot.txn!.sendOffsets({ consumerGroupId: groupId, topics });
        }
      } catch (e) {
        if (isFenced(e)) throw new ProducerFenced(errorText(e));
        throw e; // the transaction stays open: its records are committed next time round
      }
      const txn = slot.txn;
      slot.txn = undefined;
      try {
        await txn?.commit();
      } catch (e) {
        if (isFenced(e)) throw new ProducerFenced(errorText(e));
        this.#wedged = true;
        throw e;
      }
      for (const w of waiters) w.resolve();
    } catch (e) {
      for (const w of waiters) w.reject(e);
      throw e;
    }
  }

  /** Runs `fill` in the open transaction, beginning one if there is none. */
  #inTransaction<T>(fill: (txn: Transaction) => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      this.#checkWedged();
      const slot = this.#slots[this.#next];
      try {
        slot.txn ??= await slot.producer.transaction();
        return await fill(slot.txn);
      } catch (e) {
        if (isFenced(e)) throw new ProducerFenced(errorText(e));
        throw e;
      }
    });
  }

  #checkWedged(): void {
    if (this.#wedged) throw new ProducerWedged("the last commit's outcome was lost");
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => {});
    return run;
  }

  disconnect(): Promise<void> {
    return this.#serial(async () => {
      await Promise.all(this.#slots.map((s) => s.producer.disconnect()));
    });
  }
}
