/**
 * What Central reads from Kafka: driver requests and engine telemetry, each through a
 * consumer of its own, turned into rule calls whose effects go to the {@link EffectRunner};
 * and the session watchdog, which judges silence only while Central itself can read Kafka.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import { setTimeout as delay } from "node:timers/promises";
import {
  type Consumed,
  type KafkaRecord,
  type OffsetsCommitter,
  type RunningConsumer,
  startConsumer,
} from "../shared/kafka/consumer.ts";
import { groupFor, type Topics } from "../shared/kafka/topics.ts";
import { logger } from "../shared/process/log.ts";
import {
  parseRequestsMessage,
  parseTelemetryMessage,
  type RequestsMessage,
  type TelemetryMessage,
} from "../shared/protocol/messages.ts";
import type { CpKeyRing } from "./cp_keys.ts";
import type { EffectRunner } from "./effect_runner.ts";
import type { Metrics } from "./metrics.ts";
import type { ChargingNetwork, Effect } from "./rules.ts";

const log = logger("central");

/** Records handled between two yields to the event loop. */
const BATCH_SLICE = 500;

/** Central's consumer fetches every ~100 ms; this long without a fetch means Kafka is away. */
export const KAFKA_STALL_MS = 3000;

/** How often the session watchdog runs. */
const WATCHDOG_MS = 1000;

/** At most one warning this often about records without a valid code: a flood is one line. */
const REFUSAL_LOG_MS = 5000;

/** Central's Kafka intake. */
export class KafkaIntake {
  #consumers: RunningConsumer[] = [];
  #lastFetchAt = 0;
  #kafkaStalled = false;
  #watchdog?: ReturnType<typeof setInterval>;
  #refusals = { count: 0, loggedAt: -Infinity, last: "" };

  /** `keys`: the CPs' keys, which every telemetry record must be signed with. */
  constructor(
    readonly rules: ChargingNetwork,
    readonly runner: EffectRunner,
    readonly metrics: Metrics,
    readonly topics: Topics,
    readonly keys: Pick<CpKeyRing, "refusal">,
  ) {}

  /**
   * Joins the consumer groups (`<groupId>-requests`, `<groupId>-telemetry`) and starts the
   * watchdog; resolves once both consumers fetch. `commitOffsets`: how the groups' offsets are
   * committed (by the fenced producer when Central holds the network claim).
   */
  async start(
    kafka: Kafka,
    groupId = "ev-central",
    commitOffsets?: OffsetsCommitter["commitOffsets"],
  ): Promise<void> {
    const { requests, telemetry } = this.topics;
    const onBatch = (batch: Consumed<RequestsMessage | TelemetryMessage>[]) => this.#onBatch(batch);
    const common = {
      kafka,
      // Only used while the group has no committed offset (its first run): then requests
      // sent before Central ever started are read too, and denied as EXPIRED if too old.
      fromBeginning: true,
      // Committed once a second, not per batch (as many broker writes as requests).
      commitPeriodically: true,
      commitOffsets,
      onBatch,
      onInvalid: (r: KafkaRecord, error: string) => {
        this.metrics.counts.invalid++;
        log.warn(`skipped ${r.topic} message at ${r.partition}/${r.offset}: ${error}`);
      },
    };
    // Requests and telemetry have consumers of their own, so that a decision never waits
    // behind a second's worth of telemetry from thousands of CPs.
    this.#consumers = await Promise.all([
      // What a crash makes Kafka hand back again is dropped, as answered ids are stored.
      startConsumer<RequestsMessage | TelemetryMessage>({
        ...common,
        groupId: groupFor(`${groupId}-requests`, requests),
        topics: [requests],
        // A request in exactly the spec's shape has no id or time: the record gives them.
        parse: (raw, r) =>
          parseRequestsMessage(raw, { id: `kafka-${r.partition}-${r.offset}`, ts: r.timestamp }),
      }),
      // Telemetry is committed after the progress it brought is stored.
      startConsumer<RequestsMessage | TelemetryMessage>({
        ...common,
        groupId: groupFor(`${groupId}-telemetry`, telemetry),
        topics: [telemetry],
        parse: parseTelemetryMessage,
        onFetch: () => (this.#lastFetchAt = Date.now()),
        beforeCommit: () => this.runner.saveProgress(),
      }),
    ]);
    this.#lastFetchAt = Date.now();
    this.#watchdog = setInterval(() => this.#tick(), WATCHDOG_MS);
  }

  // Large batches are handled in slices, each in its own transaction, yielding between
  // them so that requests and monitor links are served meanwhile.
  async #onBatch(batch: Consumed<RequestsMessage | TelemetryMessage>[]): Promise<void> {
    this.metrics.counts.batches++;
    batch = await this.#authentic(batch);
    for (let i = 0; i < batch.length; i += BATCH_SLICE) {
      if (i > 0) await delay(0);
      const now = Date.now();
      const effects: Effect[] = [];
      for (const consumed of batch.slice(i, i + BATCH_SLICE)) {
        this.metrics.counts.records++;
        const more = this.#onMessage(consumed, now);
        if (more.every(changesNothing)) this.metrics.counts.ignored++;
        effects.push(...more);
      }
      this.runner.apply(effects, now);
    }
  }

  // What a CP writes counts only under its key: a forged record changes nothing, not even
  // which readings are stale. Checked before any rule sees the message.
  async #authentic(
    batch: Consumed<RequestsMessage | TelemetryMessage>[],
  ): Promise<Consumed<RequestsMessage | TelemetryMessage>[]> {
    const out: Consumed<RequestsMessage | TelemetryMessage>[] = [];
    for (const c of batch) {
      const m = c.message;
      if (m.type === "TELEMETRY" || m.type === "SUPPLY_END") {
        const why = await this.keys.refusal(m.cp_id, c.bytes, c.headers);
        if (why) {
          this.#refused(c, m.cp_id, why);
          continue;
        }
      }
      out.push(c);
    }
    return out;
  }

  #refused(c: Consumed<unknown>, cpId: string, why: string): void {
    this.metrics.counts.unauthenticated++;
    const r = this.#refusals;
    r.count++;
    r.last = `${cpId} at ${c.partition}/${c.offset}: ${why}`;
    this.#logRefusals(Date.now());
  }

  #logRefusals(now: number, force = false): void {
    const r = this.#refusals;
    if (r.count === 0 || (!force && now - r.loggedAt < REFUSAL_LOG_MS)) return;
    log.warn(
      `dropped ${r.count} telemetry record(s) without a valid authentication code (last: ${r.last})`,
    );
    r.count = 0;
    r.loggedAt = now;
  }

  #onMessage(
    consumed: Consumed<RequestsMessage | TelemetryMessage>,
    now: number,
  ): Effect[] {
    const message = consumed.message;
    switch (message.type) {
      case "CHARGE_REQUEST":
        this.metrics.requestDelay.add(now - consumed.timestamp);
        return this.rules.request(message, now);
      case "CANCEL_REQUEST":
        return this.rules.cancel(message, now);
      case "SUPPLY_END":
        return this.rules.supplyEnd(message, now);
      case "TELEMETRY": {
        const effects = this.rules.telemetry(message, now);
        if (effects[0]?.kind === "progress") {
          this.metrics.counts.telemetryApplied++;
          this.metrics.lag.add(now - message.ts);
        } else this.metrics.counts.telemetryIgnored++;
        return effects;
      }
    }
  }

  // The watchdog judges silence only while Central itself can read Kafka: an outage of the
  // broker, or of Central's link to it, must not abort every session.
  #tick(): void {
    const now = Date.now();
    this.#logRefusals(now);
    const stalled = this.#stalled(now);
    if (stalled !== this.#kafkaStalled) {
      this.#kafkaStalled = stalled;
      if (stalled) log.warn("Kafka unreachable: the session watchdog waits until it is back");
      else {
        log.info("Kafka reachable again");
        this.rules.restartWatchdog(now);
      }
    }
    if (!stalled) this.runner.apply(this.rules.tick(now), now);
  }

  /** Whether Central reads Kafka now: started, and fetched within {@link KAFKA_STALL_MS}. */
  get reachable(): boolean {
    return this.#consumers.length > 0 && !this.#stalled(Date.now());
  }

  #stalled(now: number): boolean {
    return now - this.#lastFetchAt > KAFKA_STALL_MS;
  }

  /** Stops the watchdog and leaves the consumer groups (offsets committed). */
  async stop(): Promise<void> {
    clearInterval(this.#watchdog);
    await Promise.all(this.#consumers.map((c) => c.stop().catch(() => {})));
  }
}

// A message that only gets a log line, or only the acknowledgement every end of supply gets
// (so that its engine stops resending it), was ignored.
function changesNothing(e: Effect): boolean {
  return e.kind === "log" || (e.kind === "send" && e.message.type === "SUPPLY_END_ACK");
}
