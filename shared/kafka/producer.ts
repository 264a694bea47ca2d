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
  type Transaction,
} from "kafkajs";
import { errorText } from "../process/log.ts";

/** A producer of JSON messages. */
export class JsonProducer {
  readonly #producer: Producer;

  constructor(kafka: Kafka) {
    this.#producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  /** Sends messages to `topic`, each keyed (by CP id) so one CP's messages stay in order. */
  async send(topic: string, messages: { key: string; value: unknown }[]): Promise<void> {
    if (messages.length === 0) return;
    await this.sendRaw(
      topic,
      messages.map((m) => ({ key: m.key, value: JSON.stringify(m.value) })),
    );
  }

  /** Sends values that are already JSON text. */
  async sendRaw(topic: string, messages: { key: string; value: string }[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#producer.send({ topic, acks: -1, messages });
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect();
  }
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
 * A producer whose every send is a Kafka transaction of one transactional id: when another
 * producer takes the id ({@link fence}), Kafka raises the epoch and this one's next send or
 * commit fails, so a process that lost its claim cannot write anything readers act on
 * (kafkajs consumers read committed by default). Sends run one at a time.
 *
 * A failed send leaves its transaction open and the next send goes into it: aborting a
 * transaction whose produce may have reached the broker would let Kafka's duplicate check
 * match the resent batch (same sequence numbers) against the aborted one, and drop it. So
 * a caller must send exactly the same messages again after a failure (the outbox does).
 */
export class TransactionalProducer {
  #producer: Producer;
  #txn?: Transaction;
  #queue: Promise<unknown> = Promise.resolve();
  #wedged = false;

  constructor(readonly kafka: Kafka, readonly transactionalId: string) {
    this.#producer = this.#build();
  }

  #build(): Producer {
    return this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      transactionalId: this.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      // A transaction begun right after a commit is refused (CONCURRENT_TRANSACTIONS) until
      // the broker wrote the commit's markers, a few ms: kafkajs' default first pause of
      // 300 ms would be paid by every other send.
      retry: { initialRetryTime: 10, retries: 8, maxRetryTime: 2000 },
      // A frozen or cut-off holder's open transaction blocks readers until it ends: a
      // takeover aborts it at once; without one, the broker does after this long.
      transactionTimeout: 60_000,
    });
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  /** Takes the transactional id now: every earlier producer with it is fenced from here on. */
  fence(): Promise<void> {
    return this.#serial(async () => {
      const txn = await this.#producer.transaction(); // InitProducerId, the first time
      await txn.abort(); // nothing in it: no request
    });
  }

  /**
   * After {@link ProducerWedged}: a new kafkajs producer that takes the id again. Only for
   * a caller that knows no other process took the id meanwhile (it would be fenced).
   */
  renew(): Promise<void> {
    return this.#serial(async () => {
      await this.#producer.disconnect().catch(() => {});
      this.#producer = this.#build();
      this.#txn = undefined;
      await this.#producer.connect();
      const txn = await this.#producer.transaction();
      await txn.abort();
      this.#wedged = false;
    });
  }

  /** Sends JSON texts in one transaction; resolves once it is committed. */
  sendRaw(
    topic: string,
    messages: { key: string; value: string }[],
  ): Promise<RecordMetadata[]> {
    if (messages.length === 0) return Promise.resolve([]);
    return this.#serial(async () => {
      if (this.#wedged) throw new ProducerWedged("the last commit's outcome was lost");
      try {
        this.#txn ??= await this.#producer.transaction();
        const sent = await this.#txn.send({ topic, acks: -1, messages });
        const txn = this.#txn;
        this.#txn = undefined;
        try {
          await txn.commit();
        } catch (e) {
          if (!isFenced(e)) this.#wedged = true;
          throw e;
        }
        return sent;
      } catch (e) {
        if (isFenced(e)) throw new ProducerFenced(errorText(e));
        throw e;
      }
    });
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => {});
    return run;
  }

  disconnect(): Promise<void> {
    return this.#serial(() => this.#producer.disconnect());
  }
}
