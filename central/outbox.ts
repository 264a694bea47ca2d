/**
 * Sends the control messages that the database's outbox holds, oldest first, and forgets
 * each only once Kafka has acknowledged it.
 *
 * Invariant: a control message (authorization, denial, command, ticket) leaves Central only
 * from the outbox, after the state change it announces is committed with it; it is deleted
 * only after Kafka took it. A crash or an outage in between leaves it there, and it is sent
 * again (receivers drop repeats by message id).
 *
 * A batch Kafka refused is sent again exactly as it was before any later row: a
 * transactional producer must repeat its batch (see TransactionalProducer). A producer fenced
 * by another Central ends the sending for good: its rows are that Central's no more.
 *
 * @module
 */
import { ProducerFenced } from "../shared/kafka/producer.ts";
import { errorText, logger } from "../shared/process/log.ts";
import { retry } from "../shared/process/retry.ts";
import type { OutboxRow } from "./db.ts";

const log = logger("central");

/** The outbox table, as the sender uses it. */
export interface OutboxStore {
  /** Messages not yet acknowledged, oldest first. */
  pendingOutbox(): OutboxRow[];
  /** Forgets messages Kafka has acknowledged. */
  sent(messageIds: string[]): void;
}

/** Where the messages go: a producer of JSON text, acknowledged when it resolves. */
export interface RawProducer {
  sendRaw(topic: string, messages: { key: string; value: string }[]): Promise<unknown>;
}

/** Pause between two attempts while Kafka refuses the outbox. */
export const OUTBOX_RETRY_MS = 2000;

/** The outbox sender: one drain at a time, retried until Kafka takes everything. */
export class OutboxSender {
  #producer?: RawProducer;
  #draining?: Promise<void>;
  #again = false;
  #warned = false;
  /** The batch being sent, kept until Kafka takes it. */
  #inflight?: OutboxRow[];
  readonly #stop = new AbortController();

  /** `fenced`: told once, with Kafka's words, when another producer took the id. */
  constructor(
    readonly store: OutboxStore,
    readonly topic: string,
    readonly retryMs = OUTBOX_RETRY_MS,
    readonly fenced: (why: string) => void = () => {},
  ) {}

  /** Starts sending through `producer`, beginning with what a previous run left. */
  start(producer: RawProducer): void {
    this.#producer = producer;
    this.flush();
  }

  /**
   * Sends what the outbox holds. A call during a drain asks for one more after it, so a
   * message written meanwhile never waits for the next call.
   */
  flush(): void {
    const producer = this.#producer;
    if (!producer || this.#stop.signal.aborted) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = retry(() => this.#drain(producer), {
      delayMs: this.retryMs,
      signal: this.#stop.signal,
      onError: (e) => {
        if (e instanceof ProducerFenced) {
          this.#stop.abort();
          this.fenced(e.message);
          return;
        }
        if (!this.#warned) {
          log.warn(`Kafka did not take the control messages (${errorText(e)}); retrying`);
        }
        this.#warned = true;
      },
    }).catch(() => {/* stopped: what is left stays in the outbox for the next run */})
      .finally(() => {
        this.#draining = undefined;
        if (this.#again) {
          this.#again = false;
          this.flush();
        }
      });
  }

  async #drain(producer: RawProducer): Promise<void> {
    while (true) {
      const rows = this.#inflight ?? this.store.pendingOutbox();
      if (rows.length === 0) break;
      this.#inflight = rows;
      await producer.sendRaw(this.topic, rows.map((r) => ({ key: r.msg_key, value: r.body })));
      this.#inflight = undefined;
      this.store.sent(rows.map((r) => r.message_id));
    }
    if (this.#warned) log.info("outbox delivered to Kafka");
    this.#warned = false;
  }

  /** Stops sending: an attempt under way finishes, no other is made. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#draining;
    this.#producer = undefined;
  }
}
