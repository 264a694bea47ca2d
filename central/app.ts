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
  type Consumed,
  type ConsumerOptions,
  type RunningConsumer,
  startConsumer,
} from "../shared/kafka/consumer.ts";
import { JsonProducer } from "../shared/kafka/producer.ts";
import { errorText, logger } from "../shared/process/log.ts";
import {
  heartbeatInterval,
  parseRequestsMessage,
  parseTelemetryMessage,
  type RequestsMessage,
  stamp,
  type TelemetryMessage,
} from "../shared/protocol/messages.ts";
import { groupFor, type Topics } from "../shared/kafka/topics.ts";
import type { CentralDb } from "./db.ts";
import {
  ChargingNetwork,
  type Effect,
  effectCp,
  type NetworkEvent,
  type NetworkOptions,
  type RunningSession,
  shownState,
} from "./network.ts";
import type { MonitorHandlers } from "./monitor_server.ts";
import { Samples } from "./samples.ts";
import { hashSecret, verifySecret } from "./secrets.ts";

const log = logger("central");

/** How many events the live views keep. */
const RECENT_EVENTS = 30;

/** How many served request ids are remembered across restarts to drop redeliveries. */
const SEEN_REQUESTS = 10_000;

/** Records handled between two yields to the event loop. */
const BATCH_SLICE = 500;

/** Central's consumer fetches every ~100 ms; this long without a fetch means Kafka is away. */
const KAFKA_STALL_MS = 3000;

/** Session rows written per transaction when progress is saved. */
const PROGRESS_CHUNK = 500;

/**
 * Where Central's memory is: all of it, the JS heap (what V8 holds, and what of it is in
 * use: the rest is garbage not yet collected), and buffers outside the heap.
 */
function memory(): Record<string, number> {
  const m = Deno.memoryUsage();
  return {
    rss_bytes: m.rss,
    heap_total_bytes: m.heapTotal,
    heap_used_bytes: m.heapUsed,
    external_bytes: m.external,
  };
}

/** Central's wiring between its core, its database and Kafka. */
export class CentralApp {
  readonly network: ChargingNetwork;
  #producer?: JsonProducer;
  #consumers: RunningConsumer[] = [];
  #flushing?: Promise<void>;
  /** Telemetry totals applied in memory and not yet written, by session: the latest only. */
  #unsaved = new Map<string, RunningSession>();
  #saving: Promise<void> = Promise.resolve();
  #flushAgain = false;
  #retry?: ReturnType<typeof setTimeout>;
  #outboxWarned = false;
  #lastFetchAt = 0;
  #kafkaStalled = false;
  #watchdog?: ReturnType<typeof setInterval>;
  readonly #listeners = new Set<() => void>();
  #failed = false;
  readonly #metrics = { telemetryApplied: 0, telemetryIgnored: 0, records: 0, batches: 0 };
  /** Telemetry: from the engine's send to Central's state. */
  readonly #lag = new Samples();
  /** Requests: from the driver's send to Central's decision. */
  readonly #requestDelay = new Samples();
  /** How late a 100 ms timer runs: the longest time Central could not serve anything. */
  readonly #loopDelay = new Samples();
  /** How long each database transaction takes (apply, saved progress): the loop waits for it. */
  readonly #dbWrite = new Samples();
  #loopProbe?: ReturnType<typeof setInterval>;
  /**
   * Called when Central cannot go on (the database refuses writes), with the CPs whose
   * change in memory the database refused.
   */
  onFatal: (why: string, unstored: ReadonlySet<string>) => void = () => {};
  readonly #recent: NetworkEvent[] = [];
  readonly #stats = { requests: 0, authorized: 0, denied: 0 };

  constructor(
    readonly db: CentralDb,
    readonly topics: Topics,
    options: NetworkOptions,
  ) {
    this.network = new ChargingNetwork(options);
    const now = Date.now();
    this.network.load(
      db.loadCps(),
      db.loadRunningSessions(now),
      db.recentRequestIds(SEEN_REQUESTS),
    );
  }

  /** Connects to Kafka and starts consuming requests and telemetry. */
  async startKafka(kafka: Kafka, groupId = "ev-central"): Promise<void> {
    this.#producer = new JsonProducer(kafka);
    await this.#producer.connect();
    // Requests and telemetry have consumers of their own, so that a decision never waits
    // behind a second's worth of telemetry from thousands of CPs.
    type Message = RequestsMessage | TelemetryMessage;
    const consume = (topic: string, group: string, more: Partial<ConsumerOptions<Message>>) =>
      startConsumer<Message>({
        kafka,
        groupId: group,
        topics: [topic],
        // Only used while the group has no committed offset (its first run): then requests
        // sent before Central ever started are read too, and denied as EXPIRED if too old.
        fromBeginning: true,
        parse: (raw, r): Message =>
          r.topic === this.topics.requests
            ? parseRequestsMessage(raw, { id: `kafka-${r.partition}-${r.offset}`, ts: r.timestamp })
            : parseTelemetryMessage(raw),
        onBatch: (messages) => this.#onRecords(messages),
        ...more,
      });
    this.#consumers = await Promise.all([
      // Committed once a second: a commit per batch was as many broker writes as requests.
      // What a crash makes Kafka hand back again is dropped, as answered ids are stored.
      consume(this.topics.requests, groupFor(`${groupId}-requests`, this.topics.requests), {
        commitPeriodically: true,
      }),
      // Telemetry is committed once a second, after the progress it brought is stored.
      consume(this.topics.telemetry, groupFor(`${groupId}-telemetry`, this.topics.telemetry), {
        onFetch: () => (this.#lastFetchAt = Date.now()),
        beforeCommit: () => this.saveProgress(),
        commitPeriodically: true,
      }),
    ]);
    this.#lastFetchAt = Date.now();
    this.#watchdog = setInterval(() => this.#tick(), 1000);
    let expected = performance.now() + 100;
    this.#loopProbe = setInterval(() => {
      const now = performance.now();
      this.#loopDelay.add(Math.max(0, Math.round(now - expected)));
      expected = now + 100;
    }, 100);
    this.#flush(); // what a previous run left unsent
  }

  // The watchdog judges silence only while Central itself can read Kafka: an outage of the
  // broker, or of Central's link to it, must not abort every session.
  #tick(): void {
    const now = Date.now();
    const stalled = now - this.#lastFetchAt > KAFKA_STALL_MS;
    if (stalled !== this.#kafkaStalled) {
      this.#kafkaStalled = stalled;
      if (stalled) log.warn("Kafka unreachable: the session watchdog waits until it is back");
      else {
        log.info("Kafka reachable again");
        this.network.restartWatchdog(now);
      }
    }
    if (!stalled) this.apply(this.network.tick(now), now);
  }

  /** Enrols a CP with its secret (stored hashed); monitors must present it when auth is on. */
  async enrol(cpId: string, secret: string): Promise<void> {
    const hash = await hashSecret(secret);
    const now = Date.now();
    this.db.enrol(cpId, hash, now);
    this.apply(this.network.enrol(cpId, now), now);
  }

  // With authentication on, a monitor must name an enrolled CP and present its secret.
  async #authenticate(cpId: string, secret: string | undefined): Promise<string | undefined> {
    const hash = this.db.secretHash(cpId);
    if (!hash) return `CP ${cpId} is not enrolled`;
    if (secret === undefined || !(await verifySecret(secret, hash))) {
      return `wrong secret for CP ${cpId}`;
    }
    return undefined;
  }

  /** Handlers for the monitor server; `requireSecret` turns CP authentication on. */
  monitorHandlers(requireSecret = false): MonitorHandlers {
    return {
      register: async (reg, peer) => {
        log.debug(`registration of ${reg.cp_id} from ${peer}`);
        if (requireSecret) {
          const refusal = await this.#authenticate(reg.cp_id, reg.secret);
          if (refusal) {
            this.apply(this.network.refuse(reg.cp_id, `${refusal} (from ${peer})`, Date.now()));
            return { ok: false, reason: refusal };
          }
        }
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
      heartbeatMs: () => heartbeatInterval(this.network.size),
      local: (cpId, msg) => {
        if (msg.type !== "SUMINISTRAR") {
          const command = msg.type === "PARAR" ? "PARAR" : "REANUDAR";
          this.command(command, cpId);
          return `${command} done: ${cpId} is ${shownState(this.network.get(cpId)!)}`;
        }
        const now = Date.now();
        const req = stamp({
          type: "CHARGE_REQUEST",
          driver_id: `local-${cpId}`,
          cp_id_solicitado: cpId,
        }, now);
        const effects = this.network.request(req, now, msg.duration_s);
        this.apply(effects, now);
        const denied = effects.find((e) => e.kind === "send" && e.message.type === "DENIED");
        return denied?.kind === "send" && denied.message.type === "DENIED"
          ? `supply refused: ${denied.message.message}`
          : `supply of ${msg.duration_s} s authorized`;
      },
    };
  }

  /** Calls `listener` after every change; returns its removal. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The last events, oldest first. */
  recentEvents(): NetworkEvent[] {
    return [...this.#recent];
  }

  /** Counters since start, and the sessions running now. */
  stats(): Record<string, number> {
    const running = this.network.list().filter((cp) => cp.session).length;
    return { ...this.#stats, running };
  }

  /** Operator command, from the keyboard or the API. */
  command(type: "PARAR" | "REANUDAR", target: string): boolean {
    if (target !== "all" && !this.network.get(target)) return false;
    this.apply(this.network.command(type, target, Date.now()));
    return true;
  }

  // Large batches are handled in slices, each in its own transaction, yielding between
  // them so that requests and monitor links are served meanwhile.
  async #onRecords(records: Consumed<RequestsMessage | TelemetryMessage>[]): Promise<void> {
    this.#metrics.batches++;
    for (let i = 0; i < records.length; i += BATCH_SLICE) {
      if (i > 0) await new Promise((r) => setTimeout(r, 0));
      const now = Date.now();
      const effects: Effect[] = [];
      for (const r of records.slice(i, i + BATCH_SLICE)) {
        this.#metrics.records++;
        effects.push(...this.#onRecord(r, now));
      }
      this.apply(effects, now);
    }
  }

  #onRecord(
    { record, message: msg }: Consumed<RequestsMessage | TelemetryMessage>,
    now: number,
  ): Effect[] {
    if (msg.type === "CANCEL_REQUEST") return this.network.cancel(msg, now);
    if (msg.type === "CHARGE_REQUEST") {
      this.#requestDelay.add(now - record.timestamp);
      return this.network.request(msg, now);
    }
    if (msg.type !== "TELEMETRY") return this.network.supplyEnd(msg, now);
    const effects = this.network.telemetry(msg, now);
    if (effects[0]?.kind === "progress") {
      this.#metrics.telemetryApplied++;
      this.#lag.add(now - msg.ts);
    } else this.#metrics.telemetryIgnored++;
    return effects;
  }

  /** Counters for benchmarks and monitoring: message counts and delay percentiles. */
  metrics(): Record<string, number> {
    const lag = this.#lag.summary();
    const req = this.#requestDelay.summary();
    const loop = this.#loopDelay.summary();
    const db = this.#dbWrite.summary();
    return {
      ...this.#metrics,
      ...this.stats(),
      cps: this.network.size,
      lag_p50_ms: lag.p50,
      lag_p99_ms: lag.p99,
      lag_max_ms: lag.max,
      request_wait_p50_ms: req.p50,
      request_wait_p99_ms: req.p99,
      request_wait_max_ms: req.max,
      loop_delay_p99_ms: loop.p99,
      loop_delay_max_ms: loop.max,
      db_write_p99_ms: db.p99,
      db_write_max_ms: db.max,
      ...memory(),
    };
  }

  /** Forgets the lag samples (a benchmark step starts). */
  resetLag(): void {
    this.#lag.reset();
    this.#requestDelay.reset();
    this.#loopDelay.reset();
    this.#dbWrite.reset();
  }

  /**
   * Carries out effects: the database first (control messages go into its outbox in the
   * same transaction), then Kafka from the outbox, then the views.
   *
   * Telemetry progress waits in memory for {@link saveProgress}: at 10,000 CPs, ten thousand
   * single-row updates a second in small transactions rewrote the whole sessions table
   * twenty times a second.
   */
  apply(effects: Effect[], now = Date.now()): void {
    if (effects.length === 0) return;
    const stored = effects.filter((e) => {
      if (e.kind !== "progress") return true;
      this.#unsaved.set(e.session.session_id, e.session);
      return false;
    });
    this.#write(
      () => this.db.apply(stored, now),
      () => stored.flatMap((e) => effectCp(e) ?? []),
    );
    let sends = false;
    for (const e of effects) {
      if (e.kind === "send") sends = true;
      else if (e.kind === "log") log[e.level](e.text);
      else if (e.kind === "event") this.#record(e.event);
    }
    if (sends) this.#flush();
    for (const listener of this.#listeners) listener();
  }

  #write(write: () => void, cps: () => string[]): void {
    if (this.#failed) throw new Error("the database failed: Central is stopping");
    try {
      const t0 = performance.now();
      write();
      this.#dbWrite.add(Math.round(performance.now() - t0));
    } catch (e) {
      this.#failed = true;
      // The memory already holds the change the database refused (disk full, file gone):
      // going on would serve state that is not stored. Stop instead; Kafka redelivers the
      // records whose effects were not committed, so a restart loses nothing.
      this.onFatal(`cannot write the database: ${errorText(e)}`, new Set(cps()));
      throw e;
    }
  }

  /**
   * Writes the telemetry totals applied since the last call, in the table's order and in
   * chunks with a yield between them. The telemetry consumer calls it before it commits its
   * offsets, so a record is never committed before its effect is stored; after a crash,
   * Kafka hands back what was applied but not saved. Calls run one after the other, so an
   * older total never overwrites a newer one.
   */
  saveProgress(): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      const sessions = this.db.inStorageOrder([...this.#unsaved.values()]);
      this.#unsaved = new Map();
      for (let i = 0; i < sessions.length; i += PROGRESS_CHUNK) {
        if (i > 0) await new Promise((r) => setTimeout(r, 0));
        const chunk = sessions.slice(i, i + PROGRESS_CHUNK);
        this.#write(() => this.db.saveProgress(chunk), () => chunk.map((s) => s.cp_id));
      }
    });
    return this.#saving;
  }

  #record(ev: NetworkEvent): void {
    log.info(`${ev.cp_id ?? "-"} ${ev.kind}: ${ev.detail}`);
    this.#recent.push(ev);
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift();
    if (ev.kind === "authorized") this.#stats.authorized++;
    if (ev.kind === "denied") this.#stats.denied++;
    if (ev.kind === "authorized" || ev.kind === "denied") this.#stats.requests++;
  }

  // Sends the outbox in order, one drain at a time (a call during a drain asks for another
  // after it); on failure retries every 2 s, so tickets and commands reach Kafka once it is
  // back, even after a crash of Central.
  #flush(): void {
    if (!this.#producer) return;
    if (this.#flushing) {
      this.#flushAgain = true;
      return;
    }
    this.#flushing = this.#drain(this.#producer).finally(() => {
      this.#flushing = undefined;
      if (this.#flushAgain) {
        this.#flushAgain = false;
        this.#flush();
      }
    });
  }

  async #drain(producer: JsonProducer): Promise<void> {
    try {
      while (true) {
        const rows = this.db.pendingOutbox();
        if (rows.length === 0) break;
        await producer.sendRaw(
          this.topics.control,
          rows.map((r) => ({ key: r.msg_key, value: r.body })),
        );
        this.db.sent(rows.map((r) => r.message_id));
      }
      if (this.#outboxWarned) log.info("outbox delivered to Kafka");
      this.#outboxWarned = false;
    } catch (e) {
      if (!this.#outboxWarned) {
        log.warn(`Kafka did not take the control messages (${errorText(e)}); retrying`);
      }
      this.#outboxWarned = true;
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => this.#flush(), 2000);
    }
  }

  /** Stops Kafka work; the caller closes the database after. */
  async stop(): Promise<void> {
    clearInterval(this.#watchdog);
    clearInterval(this.#loopProbe);
    clearTimeout(this.#retry);
    await Promise.all(this.#consumers.map((c) => c.stop().catch(() => {})));
    await this.saveProgress().catch(() => {});
    await this.#flushing;
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.disconnect().catch(() => {});
  }
}
