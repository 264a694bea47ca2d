/**
 * Central built and wired: the rules ({@link ChargingNetwork}) loaded from the database;
 * the {@link EffectRunner} that stores, sends (through the {@link OutboxSender}) and shows
 * what they decide; the {@link KafkaIntake} and the monitor handlers that feed them; the
 * {@link Metrics}. Each room is in a file of its own; this one only connects them.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import type { OffsetsCommitter } from "../shared/kafka/consumer.ts";
import type { Topics } from "../shared/kafka/topics.ts";
import { JsonProducer } from "../shared/kafka/producer.ts";
import { CpKeyRing } from "./cp_keys.ts";
import type { CentralDb } from "./db.ts";
import { EffectRunner } from "./effect_runner.ts";
import { KafkaIntake } from "./kafka_intake.ts";
import { Metrics } from "./metrics.ts";
import {
  type CentralMonitorHandlers,
  enrol,
  type MonitorDeps,
  monitorHandlers,
} from "./monitor_handlers.ts";
import { OutboxSender, type RawProducer } from "./outbox.ts";
import {
  ChargingNetwork,
  type CommandOrigin,
  type Forgetting,
  type NetworkEvent,
  type NetworkOptions,
  REMEMBERED_REQUESTS,
} from "./rules.ts";

/** Central's rooms, wired. */
export class CentralApp {
  readonly network: ChargingNetwork;
  readonly metrics = new Metrics();
  readonly outbox: OutboxSender;
  readonly runner: EffectRunner;
  readonly intake: KafkaIntake;
  /** The CPs' keys, issued at registration, which their telemetry must be signed with. */
  readonly keys: CpKeyRing;
  readonly #monitors: MonitorDeps;
  /** The producer this app built, and so closes (a given one is its owner's to close). */
  #ownProducer?: JsonProducer;

  /**
   * `fenced`: told when the outbox's producer was fenced by another Central (the network
   * claim, central/kafka_claim.ts): nothing this one sends counts any more.
   */
  constructor(
    readonly db: CentralDb,
    readonly topics: Topics,
    options: NetworkOptions,
    fenced?: (why: string) => void,
  ) {
    this.network = new ChargingNetwork(options);
    this.network.load(
      db.loadCps(),
      db.loadRunningSessions(Date.now()),
      db.recentRequestIds(REMEMBERED_REQUESTS),
      db.loadUnsettledSessions(),
    );
    this.outbox = new OutboxSender(db, topics.control, undefined, fenced);
    this.runner = new EffectRunner(db, this.outbox, this.metrics);
    this.keys = new CpKeyRing(db.loadCpKeys());
    this.intake = new KafkaIntake(this.network, this.runner, this.metrics, topics, this.keys);
    this.#monitors = {
      rules: this.network,
      runner: this.runner,
      secrets: db,
      keys: this.keys,
      command: (type, target, origin) => this.command(type, target, origin),
    };
  }

  /**
   * Connects to Kafka: the outbox starts sending, the intake consuming (`groupId`: its base).
   * `producer`: the outbox's, connected (the network claim's transactional one, which then
   * commits the intake's offsets too); by default a plain producer of its own.
   */
  async startKafka(
    kafka: Kafka,
    producer?: RawProducer & Partial<OffsetsCommitter>,
    groupId?: string,
  ): Promise<void> {
    if (!producer) {
      this.#ownProducer = producer = new JsonProducer(kafka);
      await this.#ownProducer.connect();
    }
    await this.intake.start(kafka, groupId, producer.commitOffsets?.bind(producer));
    this.metrics.startLoopProbe();
    this.outbox.start(producer);
  }

  /** Handlers for the monitor server; `requireSecret` turns CP authentication on. */
  monitorHandlers(requireSecret = false): CentralMonitorHandlers {
    return monitorHandlers(this.#monitors, requireSecret);
  }

  /** Enrols a CP with its secret (stored hashed). */
  enrol(cpId: string, secret: string): Promise<void> {
    return enrol(this.#monitors, cpId, secret);
  }

  /** PARAR / REANUDAR from the keyboard, the API or the CP; false for an unknown CP. */
  command(type: "PARAR" | "REANUDAR", target: string, origin: CommandOrigin): boolean {
    if (target !== "all" && !this.network.get(target)) return false;
    this.runner.apply(this.network.command(type, target, Date.now(), origin));
    return true;
  }

  /** Forgets a CP that is neither connected nor supplying (see {@link ChargingNetwork.forget}). */
  forget(cpId: string, origin: CommandOrigin): Forgetting {
    const now = Date.now();
    const outcome = this.network.forget(cpId, now, origin);
    if (outcome.ok) this.runner.apply(outcome.effects, now);
    return outcome;
  }

  /** The last events, oldest first. */
  recentEvents(): NetworkEvent[] {
    return this.runner.activity.recent();
  }

  /** Request counters since start, and the sessions running now. */
  stats(): Record<string, number> {
    const running = this.network.list().filter((cp) => cp.session).length;
    return { ...this.runner.activity.counts(), running };
  }

  /** Counters for benchmarks and monitoring: message counts and delay percentiles. */
  metricsSnapshot(): Record<string, number> {
    return { ...this.metrics.snapshot(), ...this.stats(), cps: this.network.size };
  }

  /** Stops Kafka work, progress saved and the outbox's send under way done; the caller closes the database after. */
  async stop(): Promise<void> {
    this.metrics.stop();
    await this.intake.stop();
    await this.runner.saveProgress().catch(() => {});
    await this.outbox.stop();
    const producer = this.#ownProducer;
    this.#ownProducer = undefined;
    await producer?.disconnect().catch(() => {});
  }
}
