/**
 * The system under the nemesis, on three hosts: PC1 the drivers; PC2 the broker, Central and
 * (with --standby) a second Central on the same database; PC3 the engines and their monitors.
 * It starts everything, breaks and heals what the schedule names, keeps the drivers asking for
 * charges, and stops everything at the end.
 *
 * @module
 */
import { join } from "node:path";
import { type Broker, type BrokerOptions, startBroker } from "../broker.ts";
import { QUESTION } from "../../driver/request_source.ts";
import type { Hosts } from "./hosts.ts";
import { ChaosProc, commandOf, type ProgramSpec } from "./proc.ts";
import type { Fault } from "./schedule.ts";
import type { ChaosOptions } from "./options.ts";
import { campaignIds } from "./targets.ts";

/** The three hosts of a campaign. */
export type Host = "pc1" | "pc2" | "pc3";

const CENTRAL_PORT = 7000;
const STANDBY_PORT = 7100;
const PRICES = [0.35, 0.42, 0.5, 0.27, 0.31, 0.45, 0.38, 0.29, 0.55];
const PROMPT = QUESTION.slice(0, 20);

/** A driver kept busy: it answers each of its prompts with the next CP, while feeding is on. */
class FedDriver {
  #next: number;
  #seen = "";
  /** Whether it waits at its prompt now (asked, and not answered). */
  idle = false;

  constructor(
    readonly proc: ChaosProc,
    private cps: string[],
    offset: number,
    feeding: () => boolean,
  ) {
    this.#next = offset;
    proc.onOutput = (chunk) => {
      this.#seen = (this.#seen + chunk).slice(-200);
      if (!this.#seen.includes(PROMPT)) return;
      this.#seen = "";
      this.idle = true;
      if (!feeding()) return;
      this.idle = false;
      void proc.type(this.cps[this.#next++ % this.cps.length]);
    };
  }
}

/** What the world needs to know. */
export interface WorldOptions extends ChaosOptions {
  /** The engines write a record (EV_CP_E --help lists --record). */
  records: boolean;
}

/** The running system. */
export class World {
  readonly procs = new Map<string, ChaosProc>();
  readonly drivers: FedDriver[] = [];
  readonly cpIds: string[];
  readonly driverIds: string[];
  readonly db: string;
  #broker?: Broker;
  #brokerStarting?: Promise<void>;
  #feeding = true;

  private constructor(
    readonly o: WorldOptions,
    readonly dir: string,
    readonly hosts: Hosts<Host>,
    readonly say: (line: string) => void,
  ) {
    ({ cpIds: this.cpIds, driverIds: this.driverIds } = campaignIds(o));
    this.db = join(dir, "central.db");
  }

  get kafka(): string {
    return `${this.hosts.addr.pc2}:9092`;
  }

  #brokerOptions(): BrokerOptions {
    return {
      port: 9092,
      controllerPort: 9093,
      dataDir: join(this.dir, "kafka"),
      listenHost: this.hosts.addr.pc2,
      advertisedHost: this.hosts.addr.pc2,
      wrap: this.hosts.wrap("pc2"),
      probe: (b) => this.hosts.probeKafka("pc2", b),
    };
  }

  /** Engine record file of a CP. */
  recordFile(cp: string): string {
    return join(this.dir, "records", `${cp}.jsonl`);
  }

  /** Tickets folder of a driver. */
  ticketsDir(driver: string): string {
    return join(this.dir, "tickets", driver);
  }

  /** Starts the whole system and waits until Central shows every CP ACTIVADO. */
  static async start(
    o: WorldOptions,
    dir: string,
    hosts: Hosts<Host>,
    say: (l: string) => void,
  ): Promise<World> {
    const w = new World(o, dir, hosts, say);
    try {
      await w.#bringUp();
    } catch (e) {
      await w.stop().catch(() => {}); // nothing it started may outlive a failed start
      throw e;
    }
    return w;
  }

  async #bringUp(): Promise<void> {
    const { o, dir, hosts, say } = this;
    await Deno.mkdir(join(dir, "logs"), { recursive: true });
    await Deno.mkdir(join(dir, "records"), { recursive: true });
    this.#broker = await startBroker(this.#brokerOptions());
    say(`broker up at ${this.kafka} (PC2)`);
    const env = { EV_TOPIC_PREFIX: "chaos_", KAFKAJS_NO_PARTITIONER_WARNING: "1" };
    const spec = (program: ProgramSpec["program"], args: string[], host: Host): ProgramSpec => ({
      program,
      args,
      wrap: hosts.wrap(host),
      cwd: dir,
      env,
    });
    const add = (name: string, s: ProgramSpec) => {
      const p = new ChaosProc(name, s, join(dir, "logs"));
      this.procs.set(name, p);
      return p;
    };
    const central = add(
      "central",
      spec("central", [String(CENTRAL_PORT), this.kafka, this.db, "--http", "off"], "pc2"),
    );
    const up = central.waitFor(/listening for monitors on port/);
    central.start();
    await up;
    const centrals = [`${hosts.addr.pc2}:${CENTRAL_PORT}`];
    if (o.standby) {
      add(
        "standby",
        spec("central", [String(STANDBY_PORT), this.kafka, this.db, "--http", "off"], "pc2"),
      )
        .start();
      centrals.push(`${hosts.addr.pc2}:${STANDBY_PORT}`);
    }
    const activated = Promise.all(
      this.cpIds.map((cp) => central.waitFor(new RegExp(`STATE ${cp} ACTIVADO`))),
    );
    activated.catch(() => {}); // awaited below; an earlier failure must not leave it unhandled
    await Promise.all(this.cpIds.map(async (cp, i) => {
      const port = String(7001 + i);
      const record = o.records ? ["--record", this.recordFile(cp)] : [];
      const engine = add(
        `engine ${cp}`,
        spec("engine", [this.kafka, port, "--duration", String(o.supplySeconds), ...record], "pc3"),
      );
      const ready = engine.waitFor(/health checks on port/);
      engine.start();
      await ready;
      add(
        `monitor ${cp}`,
        spec(
          "monitor",
          [`127.0.0.1:${port}`, centrals.join(","), cp, "--price", String(PRICES[i])],
          "pc3",
        ),
      ).start();
    }));
    await activated;
    say(`${this.cpIds.length} CPs ACTIVADO on Central (PC3 → PC2)`);
    for (const [i, d] of this.driverIds.entries()) {
      const p = add(
        `driver ${d}`,
        spec("driver", [this.kafka, d, "--tickets", this.ticketsDir(d)], "pc1"),
      );
      this.drivers.push(new FedDriver(p, this.cpIds, i, () => this.#feeding));
      p.start();
    }
    say(`${this.driverIds.length} drivers charging (PC1)`);
  }

  /** Injects (`on`) or heals a fault. */
  async apply(f: Fault, on: boolean): Promise<void> {
    if (f.kind === "cut") {
      await this.hosts.cable(f.target.replace("cable ", "") as Host, !on);
    } else if (f.target === "broker") {
      await this.#brokerFault(f.kind, on);
    } else {
      const p = this.procs.get(f.target)!;
      if (f.kind === "pause") p.signal(on ? "SIGSTOP" : "SIGCONT");
      else if (on) await p.kill();
      else p.start();
    }
  }

  async #brokerFault(kind: Fault["kind"], on: boolean): Promise<void> {
    if (kind === "pause") {
      if (this.#broker) Deno.kill(this.#broker.pid, on ? "SIGSTOP" : "SIGCONT");
    } else if (on) {
      await this.#brokerStarting;
      if (this.#broker) {
        Deno.kill(this.#broker.pid, "SIGKILL");
        await this.#broker.exited;
        this.#broker = undefined;
      }
    } else {
      // Restarting takes seconds: the schedule goes on meanwhile; a failed start is tried again.
      this.#brokerStarting = (async () => {
        for (let attempt = 1; !this.#broker; attempt++) {
          try {
            this.#broker = await startBroker(this.#brokerOptions());
          } catch (e) {
            this.say(
              `broker restart ${attempt} failed (${(e as Error).message.split("\n")[0]}); again`,
            );
          }
        }
      })();
    }
  }

  /** Waits until a broker restart under way is done. */
  async brokerReady(): Promise<void> {
    await this.#brokerStarting;
  }

  /** The drivers stop asking for new charges; they stay, to receive late tickets. */
  stopFeeding(): void {
    this.#feeding = false;
  }

  /** Whether every driver waits at its prompt (no charge of theirs is pending or running). */
  driversIdle(): boolean {
    return this.drivers.every((d) => d.idle || !d.proc.alive);
  }

  /** Each driver ends its prompt and exits; then every other program stops, and the broker. */
  async stop(): Promise<void> {
    await Promise.all(this.drivers.map(async (d) => {
      await d.proc.type("");
      const done = d.proc.exited();
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
      await d.proc.stop();
    }));
    await Promise.all([...this.procs.values()].map((p) => p.stop()));
    const broker = this.#broker;
    this.#broker = undefined;
    if (broker) {
      try {
        Deno.kill(broker.pid, "SIGCONT"); // a frozen broker would not hear SIGTERM
      } catch { /* gone */ }
      await broker.stop();
    }
  }

  /** Each Central run's log, by instance name ("central#2", "standby#1"). */
  centralLogs(): Record<string, string> {
    const logs: Record<string, string> = {};
    for (const name of ["central", "standby"]) {
      const p = this.procs.get(name);
      for (let n = 1; p && n <= p.starts; n++) logs[`${name}#${n}`] = p.logFile(n);
    }
    return logs;
  }

  /** The command line of every program, for the campaign's log. */
  commands(): string[] {
    return [...this.procs.values()].map((p) => `${p.name}: ${commandOf(p.spec).join(" ")}`);
  }
}
