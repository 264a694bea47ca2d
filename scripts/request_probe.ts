/**
 * A driver that measures what the bench calls request → authorization: it asks for a charge
 * at a few spare CPs of the fleet at a steady rate, times each answer (AUTHORIZED or DENIED)
 * from its own clock, and gives every authorized charge up at once so the CP is free again
 * for a later request. It runs in the bench's own process, which does little else, so the
 * times are what a driver on a quiet machine would see.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import { type RunningConsumer, startConsumer } from "../shared/kafka/consumer.ts";
import { JsonProducer } from "../shared/kafka/producer.ts";
import { parseControlMessage, stamp } from "../shared/protocol/messages.ts";
import type { Topics } from "../shared/kafka/topics.ts";

/** Request latencies and how they were answered. */
export interface ProbeResult {
  latenciesMs: number[];
  authorized: number;
  denied: number;
  unanswered: number;
}

/** Requests charges at `cps` in turn, `ratePerS` a second, until stopped. */
export class RequestProbe {
  readonly #sent = new Map<string, number>();
  #result: ProbeResult = { latenciesMs: [], authorized: 0, denied: 0, unanswered: 0 };
  #producer?: JsonProducer;
  #consumer?: RunningConsumer;
  #timer?: ReturnType<typeof setInterval>;
  #next = 0;

  constructor(
    readonly kafka: Kafka,
    readonly topics: Topics,
    readonly cps: string[],
    readonly ratePerS: number,
  ) {}

  /** Connects, and starts asking once its consumer reads the control topic. */
  async start(): Promise<void> {
    this.#producer = new JsonProducer(this.kafka);
    await this.#producer.connect();
    this.#consumer = await startConsumer({
      kafka: this.kafka,
      groupId: `ev-probe-${crypto.randomUUID()}`,
      topics: [this.topics.control],
      fromBeginning: false,
      // Its group is its own and never resumed: commits would only load its connection.
      commitPeriodically: true,
      parse: parseControlMessage,
      onInvalid: () => {},
      onBatch: (messages) => {
        const at = Date.now();
        const cancels = [];
        for (const { message: m } of messages) {
          if (m.type !== "AUTHORIZED" && m.type !== "DENIED") continue;
          const sentAt = this.#sent.get(m.request_id);
          if (sentAt === undefined) continue;
          this.#sent.delete(m.request_id);
          this.#result.latenciesMs.push(at - sentAt);
          if (m.type === "DENIED") this.#result.denied++;
          else {
            this.#result.authorized++;
            cancels.push({
              key: m.cp_id,
              value: stamp({
                type: "CANCEL_REQUEST",
                driver_id: m.driver_id,
                request_id: m.request_id,
              }),
            });
          }
        }
        // Not awaited: the next answers must not wait for this send's round trip.
        void this.#producer!.send(this.topics.requests, cancels).catch(() => {});
      },
    });
    this.#timer = setInterval(() => this.#ask(), 1000 / this.ratePerS);
  }

  #ask(): void {
    const cp = this.cps[this.#next++ % this.cps.length];
    const req = stamp({
      type: "CHARGE_REQUEST",
      driver_id: `PROBE-${this.#next}`,
      cp_id_solicitado: cp,
    });
    this.#sent.set(req.id, Date.now());
    void this.#producer!.send(this.topics.requests, [{ key: cp, value: req }]).catch(() => {});
  }

  /** Starts a new measurement: what was answered so far is forgotten. */
  reset(): void {
    this.#result = { latenciesMs: [], authorized: 0, denied: 0, unanswered: 0 };
    this.#sent.clear();
  }

  /** What was measured since the last reset; requests waiting over 5 s count as unanswered. */
  result(): ProbeResult {
    const old = Date.now() - 5000;
    const unanswered = [...this.#sent.values()].filter((t) => t < old).length;
    return { ...this.#result, unanswered };
  }

  /** Stops asking and disconnects. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#consumer?.stop().catch(() => {});
    await this.#producer?.disconnect().catch(() => {});
  }
}
