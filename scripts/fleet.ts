/**
 * `deno task fleet`: simulates many charging points and drivers in one process, with the
 * real code: each CP is an {@link Engine} on Kafka and a {@link CentralLink} (a real TCP
 * monitor link to Central); drivers send real requests. For demos with hundreds of CPs and
 * for the benchmark (scripts/bench.ts), which runs it as a child process and drives it with
 * `--control`: commands on stdin, one JSON line per answer on stdout.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { CentralLink, LINK_DEFAULTS } from "../cp_monitor/central_link.ts";
import { Engine } from "../cp_engine/engine.ts";
import { createKafka, ensureTopics } from "../shared/kafka/client.ts";
import { type KafkaCredentials, kafkaCredentials } from "../shared/kafka/credentials.ts";
import { UsageError } from "../shared/process/cli.ts";
import { type RunningConsumer, startConsumer } from "../shared/kafka/consumer.ts";
import { JsonProducer } from "../shared/kafka/producer.ts";
import { stdinLines } from "../shared/term/input.ts";
import { IoLag } from "../shared/net/io_lag.ts";
import { setLevel } from "../shared/process/log.ts";
import { CurrentKey, type MacKey, newCpKey, signedHeaders } from "../shared/protocol/record_mac.ts";
import {
  type ControlMessage,
  parseControlMessage,
  stamp,
  type TelemetryMessage,
} from "../shared/protocol/messages.ts";
import { topicNames } from "../shared/kafka/topics.ts";

/** What a fleet simulates. */
export interface FleetOptions {
  broker: string;
  /**
   * On a secure broker: a fleet is drivers and engines at once, which no role's ACLs allow
   * together (scripts/kafka/acls.ts): it logs in as admin.
   */
  credentials?: KafkaCredentials;
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
  /** Number of the first CP (ids are F-00001 on), so several fleets can share a Central. */
  first?: number;
  /** CPs left out of `supplyAll`, kept free for other drivers (the bench's probe). */
  spare?: number;
  /**
   * Sign with a key of the fleet's own when Central issued none: a Central from before
   * signed telemetry then gets the same records as one that checks them, so the bench can
   * compare the two under one load (`deno task bench --central-root`).
   */
  ownKeys?: boolean;
}

// One key for every CP of a fleet that signs on its own (FleetOptions.ownKeys).
const OWN_KEY = newCpKey(1);

/** Engines tick in this many groups spread over the second, as real CPs are not in step. */
const TICK_GROUPS = 10;

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
  readonly counters = {
    telemetrySent: 0,
    requests: 0,
    authorized: 0,
    denied: 0,
    tickets: 0,
    linksLost: 0,
  };
  /** Why links were lost, with how often: a healthy run has none. */
  readonly lostReasons: Record<string, number> = {};
  readonly #pending = new Map<string, Pending>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #producer?: JsonProducer;
  #consumer?: RunningConsumer;
  readonly #topics = topicNames();
  #driverSeq = 0;
  readonly #macKeys = new Map<string, CurrentKey>();
  #stopIoLag = () => {};

  constructor(readonly options: FleetOptions) {}

  /** CP ids of the fleet. */
  get ids(): string[] {
    return [...this.engines.keys()];
  }

  /** CP ids that `supplyAll` leaves free. */
  get spareIds(): string[] {
    return this.ids.slice(this.ids.length - (this.options.spare ?? 0));
  }

  /** Connects to Kafka, registers every CP with Central, and starts the clocks. */
  async start(): Promise<void> {
    const o = this.options;
    const kafka = createKafka(o.broker, "ev-fleet", o.credentials);
    const t = this.#topics;
    await ensureTopics(kafka, [t.requests, t.telemetry, t.control]);
    this.#producer = new JsonProducer(kafka);
    await this.#producer.connect();
    this.#consumer = await startConsumer({
      kafka,
      groupId: `ev-fleet-${crypto.randomUUID()}`,
      topics: [this.#topics.control],
      fromBeginning: false,
      parse: parseControlMessage,
      onInvalid: () => {}, // Central's bench traffic only: nothing else to say
      onBatch: (messages) => {
        const out: TelemetryMessage[] = [];
        for (const { message } of messages) this.#onControl(message, out);
        void this.#send(out);
      },
    });
    // One canary for the whole process: thousands of links share its socket backlog.
    const ioLag = await IoLag.start();
    this.#stopIoLag = () => ioLag.stop();
    const first = o.first ?? 1;
    for (let i = first; i < first + o.cps; i++) {
      const id = `F-${String(i).padStart(5, "0")}`;
      const engine = new Engine({ powerKw: 50, durationS: o.durationS, staleMs: 60_000 });
      engine.claim(id);
      this.engines.set(id, engine);
      const link = new CentralLink(
        o.central,
        { cp_id: id, location: `Fleet bay ${i}`, price_eur_kwh: 0.3 },
        "OK",
        {
          up() {},
          down: (why) => {
            this.counters.linksLost++;
            const reason = why.replace(/F-\d+/g, "<cp>");
            this.lostReasons[reason] = (this.lostReasons[reason] ?? 0) + 1;
          },
          refused() {},
          notice() {},
        },
        { ...LINK_DEFAULTS, ioLag: () => ioLag.current() },
      );
      this.links.set(id, link);
      void link.run();
      // Connect in waves, as a real network comes up, not all ten thousand in one instant.
      if (i % 500 === 0) await delay(250);
    }
    let group = 0;
    this.#timers.push(setInterval(() => this.#tick(group++ % TICK_GROUPS), 1000 / TICK_GROUPS));
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
      await delay(100);
    }
  }

  /**
   * Asks for a charge at every CP but the spare ones that is not supplying (one new driver
   * each), 500 requests every 250 ms: drivers arrive over a few seconds, not all in the same
   * millisecond. Returns how many were asked.
   */
  async requestAll(): Promise<number> {
    const spare = new Set(this.spareIds);
    const ids = this.ids.filter((id) => !spare.has(id) && !this.engines.get(id)!.supply);
    for (let i = 0; i < ids.length; i += 500) {
      if (i > 0) await delay(250);
      await this.#request(ids.slice(i, i + 500));
    }
    return ids.length;
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
        // Unique across the fleets that share a Central: they number their CPs apart.
        driver_id: `FD-${this.options.first ?? 1}-${++this.#driverSeq}`,
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

  #tick(group: number): void {
    const out: TelemetryMessage[] = [];
    let i = 0;
    for (const engine of this.engines.values()) {
      if (i++ % TICK_GROUPS === group) out.push(...engine.tick());
    }
    void this.#send(out);
  }

  // Signed like a real engine's, with the key each CP's link got in WELCOME: Central drops
  // what is not, and the bench measures Central with the checks it makes in production.
  async #send(messages: TelemetryMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 1000) {
      const chunk = messages.slice(i, i + 1000);
      const records = [];
      for (const m of chunk) {
        const key = this.#macKey(m.cp_id);
        if (!key) continue; // not registered yet: a real engine has no key either
        const value = JSON.stringify(m);
        records.push({ key: m.cp_id, value, headers: await signedHeaders(key, value) });
      }
      await this.#producer!.sendRaw(this.#topics.telemetry, records)
        .then(() => (this.counters.telemetrySent += chunk.filter((m) =>
          m.type === "TELEMETRY"
        ).length))
        .catch(() => {});
    }
  }

  #macKey(cpId: string): MacKey | undefined {
    const key = this.links.get(cpId)?.cpKey ??
      (this.options.ownKeys && this.links.get(cpId)?.registered ? OWN_KEY : undefined);
    if (!key) return undefined;
    let current = this.#macKeys.get(cpId);
    if (!current) this.#macKeys.set(cpId, current = new CurrentKey());
    current.set(key);
    return current.get();
  }

  /** Closes one CP's monitor link (as if its monitor died). */
  closeLink(id: string): void {
    this.links.get(id)!.stop();
  }

  /** Stops everything. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    for (const link of this.links.values()) link.stop();
    this.#stopIoLag();
    await this.#consumer?.stop().catch(() => {});
    await this.#producer?.disconnect().catch(() => {});
  }
}

/**
 * Serves the bench's commands, a line each on stdin, answering a JSON line each on stdout:
 * `supply` (every CP but the spare ones starts a charge), `stats`, `fault <id>`, `close <id>`
 * and `quit`. Times are this process's `Date.now()`, the clock the bench reads too.
 */
async function serveControl(fleet: Fleet): Promise<void> {
  const say = (o: unknown) => console.log(JSON.stringify(o));
  say({ registered: fleet.engines.size, spare: fleet.spareIds });
  for await (const line of stdinLines()) {
    const [cmd, id] = line.trim().split(/\s+/);
    if (cmd === "supply") {
      say({ asked: await fleet.requestAll() });
    } else if (cmd === "stats") {
      say({ stats: fleet.counters, lost: fleet.lostReasons });
    } else if (cmd === "fault" && fleet.engines.has(id)) {
      const at = Date.now();
      await fleet.setFault(id, true);
      say({ fault: id, at });
    } else if (cmd === "close" && fleet.links.has(id)) {
      say({ close: id, at: Date.now() });
      fleet.closeLink(id);
    } else if (cmd === "quit") {
      if (fleet.counters.linksLost > 0) {
        console.error(
          `fleet from ${fleet.ids[0]}: ${fleet.counters.linksLost} links lost: ${
            JSON.stringify(fleet.lostReasons)
          }`,
        );
      }
      break;
    } else say({ error: `unknown command: ${line}` });
  }
  await fleet.stop();
  Deno.exit(0);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      broker: { type: "string", default: "127.0.0.1:9092" },
      central: { type: "string", default: "127.0.0.1:7000" },
      cps: { type: "string", default: "100" },
      first: { type: "string", default: "1" },
      spare: { type: "string", default: "0" },
      "request-rate": { type: "string", default: "2" },
      "unknown-share": { type: "string", default: "0.1" },
      "fault-rate": { type: "string", default: "0.1" },
      duration: { type: "string", default: "30" },
      "supply-all": { type: "boolean", default: false },
      control: { type: "boolean", default: false },
      "kafka-user": { type: "string" },
      "kafka-password-file": { type: "string" },
      "own-keys": { type: "boolean", default: false },
    },
  });
  let credentials: KafkaCredentials | undefined;
  try {
    credentials = kafkaCredentials(values);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`fleet: error: ${e.message}`);
    Deno.exit(2);
  }
  setLevel("warn");
  const [host, port] = values.central!.split(":");
  const fleet = new Fleet({
    broker: values.broker!,
    central: { host, port: Number(port) },
    cps: Number(values.cps),
    first: Number(values.first),
    spare: Number(values.spare),
    requestRate: Number(values["request-rate"]),
    unknownShare: Number(values["unknown-share"]),
    faultRate: Number(values["fault-rate"]),
    durationS: Number(values.duration),
    supplyAll: values["supply-all"]!,
    credentials,
    ownKeys: values["own-keys"]!,
  });
  await fleet.start();
  await fleet.registered(600_000);
  if (values.control) await serveControl(fleet);
  else {
    if (values["supply-all"]) await fleet.requestAll();
    console.log(`fleet: ${values.cps} CPs registered; Ctrl+C stops`);
    const report = setInterval(
      () =>
        console.log(
          `fleet: ${JSON.stringify(fleet.counters)} ${JSON.stringify(fleet.lostReasons)}`,
        ),
      5000,
    );
    Deno.addSignalListener("SIGINT", async () => {
      clearInterval(report);
      await fleet.stop();
      Deno.exit(0);
    });
  }
}
