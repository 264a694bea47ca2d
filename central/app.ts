/**
 * Wires Central together: monitor links and Kafka records go into the
 * {@link ChargingNetwork}; the effects it returns are written to SQLite (one transaction
 * per batch) before any message about them leaves on Kafka, so a driver never holds a
 * ticket that the database lacks.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import {
  JsonProducer,
  type KafkaRecord,
  type RunningConsumer,
  startConsumer,
} from "../shared/kafka.ts";
import { errorText, logger } from "../shared/log.ts";
import {
  type ControlMessage,
  parseRequestsMessage,
  parseTelemetryMessage,
} from "../shared/messages.ts";
import type { Topics } from "../shared/topics.ts";
import { parseJson, ValidationError } from "../shared/validate.ts";
import type { CentralDb } from "./db.ts";
import { ChargingNetwork, type Effect, type NetworkOptions, shownState } from "./network.ts";
import type { MonitorHandlers } from "./monitor_server.ts";

const log = logger("central");

/** Central's wiring between its core, its database and Kafka. */
export class CentralApp {
  readonly network: ChargingNetwork;
  #producer?: JsonProducer;
  #consumer?: RunningConsumer;
  #sending: Promise<void> = Promise.resolve();
  #watchdog?: ReturnType<typeof setInterval>;
  /** Called after every change, for views. */
  onChange: () => void = () => {};

  constructor(
    readonly db: CentralDb,
    readonly topics: Topics,
    options: NetworkOptions,
  ) {
    this.network = new ChargingNetwork(options);
    const now = Date.now();
    this.network.load(db.loadCps(), db.loadRunningSessions(now));
  }

  /** Connects to Kafka and starts consuming requests and telemetry. */
  async startKafka(kafka: Kafka, groupId = "ev-central"): Promise<void> {
    this.#producer = new JsonProducer(kafka);
    await this.#producer.connect();
    this.#consumer = await startConsumer({
      kafka,
      groupId,
      topics: [this.topics.requests, this.topics.telemetry],
      fromBeginning: false,
      onBatch: (records) => this.#onRecords(records),
    });
    this.#watchdog = setInterval(() => this.apply(this.network.tick(Date.now())), 1000);
  }

  /** Handlers for the monitor server. */
  monitorHandlers(): MonitorHandlers {
    return {
      register: (reg, peer) => {
        log.debug(`registration of ${reg.cp_id} from ${peer}`);
        const now = Date.now();
        const result = this.network.register(reg, now);
        this.apply(result.effects, now);
        if (!result.ok) {
          log.warn(`registration from ${peer} refused: ${result.reason}`);
          return result;
        }
        const state = shownState(result.cp);
        const message = result.known
          ? `Welcome back, ${reg.cp_id}. You are ${state}.`
          : `Welcome, ${reg.cp_id}: enrolled at ${reg.location}. You are ${state}.`;
        return {
          ok: true,
          welcome: { type: "WELCOME", cp_id: reg.cp_id, known: result.known, state, message },
        };
      },
      health: (cpId, health) => this.apply(this.network.reportHealth(cpId, health, Date.now())),
      down: (cpId, why) => this.apply(this.network.linkDown(cpId, Date.now(), why)),
    };
  }

  /** Operator command, from the keyboard or the API. */
  command(type: "PARAR" | "REANUDAR", target: string): boolean {
    if (target !== "all" && !this.network.get(target)) return false;
    this.apply(this.network.command(type, target, Date.now()));
    return true;
  }

  #onRecords(records: KafkaRecord[]): void {
    const now = Date.now();
    const effects: Effect[] = [];
    for (const r of records) {
      try {
        effects.push(...this.#onRecord(r, now));
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        log.warn(`skipped ${r.topic} message at ${r.partition}/${r.offset}: ${e.message}`);
      }
    }
    this.apply(effects, now);
  }

  #onRecord(r: KafkaRecord, now: number): Effect[] {
    const raw = parseJson(r.text);
    if (r.topic === this.topics.requests) {
      const msg = parseRequestsMessage(raw, {
        id: `kafka-${r.partition}-${r.offset}`,
        ts: r.timestamp,
      });
      return msg.type === "CHARGE_REQUEST"
        ? this.network.request(msg, now)
        : this.network.cancel(msg, now);
    }
    const msg = parseTelemetryMessage(raw);
    return msg.type === "TELEMETRY"
      ? this.network.telemetry(msg, now)
      : this.network.supplyEnd(msg, now);
  }

  /** Carries out effects: database first, then Kafka, then the views. */
  apply(effects: Effect[], now = Date.now()): void {
    if (effects.length === 0) return;
    this.db.apply(effects, now);
    const outgoing: ControlMessage[] = [];
    for (const e of effects) {
      if (e.kind === "send") outgoing.push(e.message);
      else if (e.kind === "log") log[e.level](e.text);
      else if (e.kind === "event") {
        const ev = e.event;
        log.info(`${ev.cp_id ?? "-"} ${ev.kind}: ${ev.detail}`);
      }
    }
    if (outgoing.length) this.#send(outgoing);
    this.onChange();
  }

  // One chain keeps control messages in the order the rules produced them.
  #send(messages: ControlMessage[]): void {
    const producer = this.#producer;
    if (!producer) {
      log.warn(`not connected to Kafka: ${messages.length} control message(s) not sent`);
      return;
    }
    const batch = messages.map((m) => ({ key: m.cp_id, value: m }));
    this.#sending = this.#sending.then(() =>
      producer.send(this.topics.control, batch).catch((e) => {
        log.error(`sending ${batch.length} control message(s) failed: ${errorText(e)}`);
      })
    );
  }

  /** Stops Kafka work; the caller closes the database after. */
  async stop(): Promise<void> {
    clearInterval(this.#watchdog);
    await this.#consumer?.stop().catch(() => {});
    await this.#sending;
    await this.#producer?.disconnect().catch(() => {});
  }
}
