/**
 * `deno task fleet`: simulates many charging points and drivers in one process, with the
 * real code: each CP is an {@link Engine} on Kafka and a {@link CentralLink} (a real TCP
 * monitor link to Central); drivers send real requests. For demos with hundreds of CPs and
 * for the benchmark (scripts/bench.ts), which drives it as a module.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { CentralLink } from "../cp_monitor/central_link.ts";
import { Engine } from "../cp_engine/engine.ts";
import {
  createKafka,
  ensureTopics,
  JsonProducer,
  type RunningConsumer,
  startConsumer,
} from "../shared/kafka.ts";
import { setLevel } from "../shared/log.ts";
import {
  type ControlMessage,
  parseControlMessage,
  stamp,
  type TelemetryMessage,
} from "../shared/messages.ts";
import { topicNames } from "../shared/topics.ts";
import { parseJson } from "../shared/validate.ts";

/** What a fleet simulates. */
export interface FleetOptions {
  broker: string;
  central: { host: string; port: number };
  cps: number;
  /** Charge requests per second from random drivers (0: none). */
  requestRate: number;
  /** Share of requests for CPs that do not exist. */
  unknownShare: number;
  /** Engine faults injected per second (each lasts 5 s). */
  faultRate: number;
  /** Seconds a supply lasts. */
  durationS: number;
  /** Ask for a charge at every CP at start, so every CP sends telemetry every second. */
  supplyAll: boolean;
}

/** A request waiting for its answer, and when it was sent. */
interface Pending {
  sentAt: number;
  cp: string;
}

/** A running fleet. */
export class Fleet {
  readonly engines = new Map<string, Engine>();
  readonly links = new Map<string, CentralLink>();
  readonly answerLatencies: number[] = [];
  readonly counters = { telemetrySent: 0, requests: 0, authorized: 0, denied: 0, tickets: 0 };
  readonly #pending = new Map<string, Pending>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #producer?: JsonProducer;
  #consumer?: RunningConsumer;
  readonly #topics = topicNames();
  #driverSeq = 0;

  constructor(readonly options: FleetOptions) {}

  /** CP ids of the fleet. */
  get ids(): string[] {
    return [...this.engines.keys()];
  }

  /** Connects to Kafka, registers every CP with Central, and starts the clocks. */
  async start(): Promise<void> {
    const o = this.options;
    const kafka = createKafka(o.broker, "ev-fleet");
    const t = this.#topics;
    await ensureTopics(kafka, [t.requests, t.telemetry, t.control]);
    this.#producer = new JsonProducer(kafka);
    await this.#producer.connect();
    this.#consumer = await startConsumer({
      kafka,
      groupId: `ev-fleet-${crypto.randomUUID()}`,
      topics: [this.#topics.control],
      fromBeginning: false,
      onBatch: (records) => {
        const out: TelemetryMessage[] = [];
        for (const r of records) {
          let m: ControlMessage;
          try {
            m = parseControlMessage(parseJson(r.text));
          } catch {
            continue;
          }
          this.#onControl(m, out);
        }
        void this.#send(out);
      },
    });
    for (let i = 1; i <= o.cps; i++) {
      const id = `F-${String(i).padStart(5, "0")}`;
      const engine = new Engine({ powerKw: 50, durationS: o.durationS, staleMs: 60_000 });
      engine.claim(id);
      this.engines.set(id, engine);
      const link = new CentralLink(
        o.central,
        { cp_id: id, location: `Fleet bay ${i}`, price_eur_kwh: 0.3 },
        "OK",
        { up() {}, down() {}, refused() {}, notice() {} },
      );
      this.links.set(id, link);
      void link.run();
      // Connect in waves, as a real network comes up, not all ten thousand in one instant.
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 250));
    }
    this.#timers.push(setInterval(() => this.#tick(), 1000));
    if (o.requestRate > 0) {
      this.#timers.push(setInterval(() => this.requestRandom(), 1000 / o.requestRate));
    }
    if (o.faultRate > 0) this.#timers.push(setInterval(() => this.#fault(), 1000 / o.faultRate));
  }

  /** Resolves when every CP's link is registered. */
  async registered(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ([...this.links.values()].some((l) => !l.registered)) {
      if (Date.now() > deadline) throw new Error("the fleet's CPs did not all register in time");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Asks for a charge at every CP (one driver each). */
  async requestAll(): Promise<void> {
    const ids = this.ids;
    for (let i = 0; i < ids.length; i += 500) {
      await this.#request(ids.slice(i, i + 500));
    }
  }

  #onControl(m: ControlMessage, out: TelemetryMessage[]): void {
    if (m.type === "AUTHORIZED" || m.type === "DENIED") {
      const p = this.#pending.get(m.request_id);
      if (!p) return;
      this.#pending.delete(m.request_id);
      this.answerLatencies.push(Date.now() - p.sentAt);
      this.counters[m.type === "AUTHORIZED" ? "authorized" : "denied"]++;
      return;
    }
    if (m.type === "TICKET") {
      this.counters.tickets++;
      return;
    }
    const engine = this.engines.get(m.cp_id);
    if (engine) out.push(...engine.control(m, Date.now()));
  }

  async #request(cps: string[]): Promise<void> {
    const messages = cps.map((cp) => {
      const req = stamp({
        type: "CHARGE_REQUEST",
        driver_id: `FD-${++this.#driverSeq}`,
        cp_id_solicitado: cp,
      });
      this.#pending.set(req.id, { sentAt: Date.now(), cp });
      return { key: cp, value: req };
    });
    this.counters.requests += messages.length;
    await this.#producer!.send(this.#topics.requests, messages).catch(() => {});
  }

  /** One request from a new driver at a random CP (or, by the unknown share, a missing one). */
  requestRandom(): void {
    const ids = this.ids;
    const unknown = Math.random() < this.options.unknownShare;
    const cp = unknown
      ? `NOPE-${Math.floor(Math.random() * 1000)}`
      : ids[Math.floor(Math.random() * ids.length)];
    void this.#request([cp]);
  }

  #fault(): void {
    const ids = this.ids;
    const id = ids[Math.floor(Math.random() * ids.length)];
    void this.setFault(id, true);
    setTimeout(() => void this.setFault(id, false), 5000);
  }

  /** Turns a CP's engine fault on or off; its monitor reports it to Central at once. */
  async setFault(id: string, on: boolean): Promise<void> {
    const out = this.engines.get(id)!.setFault(on);
    this.links.get(id)!.setHealth(on ? "KO" : "OK");
    await this.#send(out);
  }

  #tick(): void {
    const out: TelemetryMessage[] = [];
    for (const engine of this.engines.values()) out.push(...engine.tick());
    void this.#send(out);
  }

  async #send(messages: TelemetryMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 1000) {
      const chunk = messages.slice(i, i + 1000);
      await this.#producer!.send(
        this.#topics.telemetry,
        chunk.map((m) => ({ key: m.cp_id, value: m })),
      )
        .then(() => (this.counters.telemetrySent += chunk.filter((m) =>
          m.type === "TELEMETRY"
        ).length))
        .catch(() => {});
    }
  }

  /** Closes one CP's monitor link (as if its monitor died). */
  closeLink(id: string): void {
    this.links.get(id)!.stop();
  }

  /** Stops everything. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    for (const link of this.links.values()) link.stop();
    await this.#consumer?.stop().catch(() => {});
    await this.#producer?.disconnect().catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      broker: { type: "string", default: "127.0.0.1:9092" },
      central: { type: "string", default: "127.0.0.1:7000" },
      cps: { type: "string", default: "100" },
      "request-rate": { type: "string", default: "2" },
      "unknown-share": { type: "string", default: "0.1" },
      "fault-rate": { type: "string", default: "0.1" },
      duration: { type: "string", default: "30" },
      "supply-all": { type: "boolean", default: false },
    },
  });
  setLevel("warn");
  const [host, port] = values.central!.split(":");
  const fleet = new Fleet({
    broker: values.broker!,
    central: { host, port: Number(port) },
    cps: Number(values.cps),
    requestRate: Number(values["request-rate"]),
    unknownShare: Number(values["unknown-share"]),
    faultRate: Number(values["fault-rate"]),
    durationS: Number(values.duration),
    supplyAll: values["supply-all"]!,
  });
  await fleet.start();
  await fleet.registered();
  if (values["supply-all"]) await fleet.requestAll();
  console.log(`fleet: ${values.cps} CPs registered; Ctrl+C stops`);
  const report = setInterval(() => console.log(`fleet: ${JSON.stringify(fleet.counters)}`), 5000);
  Deno.addSignalListener("SIGINT", async () => {
    clearInterval(report);
    await fleet.stop();
    Deno.exit(0);
  });
}
