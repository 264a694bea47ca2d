/**
 * The network the scripted demo plays on: the real programs, each writing to a log file of
 * its own (so the narration stays readable), started and stopped here; it is the
 * {@link DemoWorld} the scenarios act on.
 *
 * @module
 */
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { eventually } from "../shared/process/eventually.ts";
import { CentralApi } from "./demo_central.ts";
import {
  type CpLines,
  DEMO_TOKEN,
  driverLine,
  networkLines,
  type ProgramLine,
} from "./demo_network.ts";
import type { DemoConfig } from "./demo_options.ts";
import { DemoProcess, fileSink } from "./demo_process.ts";
import { type DemoWorld, LONG_CHARGE_S, SHORT_CHARGE_S } from "./demo_scenarios.ts";

/** Every demo program running, with its log file, for the scenarios. */
export class ScriptedNetwork implements DemoWorld {
  readonly api: CentralApi;
  readonly logs: string;
  readonly #procs: DemoProcess[] = [];
  readonly #cps: CpLines[];
  readonly #central: ProgramLine;
  readonly #engines = new Map<string, DemoProcess>();
  readonly #monitors = new Map<string, DemoProcess>();
  readonly #started = new Map<string, number>();
  #requestFiles = 0;

  /** `work` holds the logs, requests files and tickets; `say` narrates. */
  constructor(
    readonly config: DemoConfig,
    readonly work: string,
    db: string,
    readonly say: (line: string) => void,
  ) {
    this.api = new CentralApi(`http://127.0.0.1:${config.httpPort}`, DEMO_TOKEN);
    this.logs = join(work, "logs");
    // The happy flow's charge ends by itself; the others last until a scenario stops them.
    const lines = networkLines(
      config,
      db,
      (id) => (id === "CP-01" ? SHORT_CHARGE_S : LONG_CHARGE_S),
    );
    this.#central = lines.central;
    this.#cps = lines.cps;
  }

  /** Starts Central, then every engine and monitor; resolves once Central shows every CP. */
  async start(timeoutMs = 90_000): Promise<void> {
    await Deno.mkdir(this.logs, { recursive: true });
    const central = this.#launch(this.#central);
    await central.waitFor(/listening for monitors on port/, timeoutMs);
    for (const cp of this.#cps) {
      this.#engines.set(cp.id, this.#launch(cp.engine, true));
      this.#monitors.set(cp.id, this.#launch(cp.monitor, true));
    }
    await eventually(
      "every demo CP ACTIVADO on Central",
      async () => {
        const cps = await this.api.cps().catch(() => []);
        return this.#cps.every((cp) => cps.find((c) => c.cp_id === cp.id)?.state === "ACTIVADO");
      },
      timeoutMs,
      300,
    );
  }

  engine(cpId: string): DemoProcess {
    return this.#running(this.#engines, cpId, "engine");
  }

  monitor(cpId: string): DemoProcess {
    return this.#running(this.#monitors, cpId, "monitor");
  }

  restartMonitor(cpId: string): DemoProcess {
    const cp = this.#cps.find((c) => c.id === cpId);
    if (!cp) throw new Error(`no demo CP ${cpId}`);
    const monitor = this.#launch(cp.monitor, true);
    this.#monitors.set(cpId, monitor);
    return monitor;
  }

  async driver(driverId: string, cpIds: string[]): Promise<DemoProcess> {
    const file = join(this.work, `requests-${driverId}-${++this.#requestFiles}.txt`);
    await Deno.writeTextFile(file, cpIds.join("\n") + "\n");
    return this.#launch(driverLine(this.config, driverId, file, join(this.work, "tickets")));
  }

  pause(): Promise<void> {
    return delay(this.config.paceS * 1000);
  }

  /**
   * Stops every program still running (Ctrl+C, SIGKILL after 10 s): the CPs and drivers
   * first, Central last, so that it sees them go.
   */
  async stopAll(): Promise<void> {
    const [central, ...others] = this.#procs;
    await Promise.all(others.map((p) => p.stop()));
    await central?.stop();
  }

  /** The last lines of every program's log, for a failed run's report. */
  tails(lines = 6): string[] {
    return this.#procs.flatMap((p) => [
      `----- ${p.name} (pid ${p.pid}), last lines -----`,
      ...p.lines.slice(-lines),
    ]);
  }

  #running(map: Map<string, DemoProcess>, cpId: string, what: string): DemoProcess {
    const p = map.get(cpId);
    if (!p?.running) throw new Error(`the ${what} of ${cpId} is not running`);
    return p;
  }

  #launch(line: ProgramLine, stdin = false): DemoProcess {
    // One log per run: central.log, driver-D1.log, then driver-D1-2.log for its next run.
    const n = (this.#started.get(line.name) ?? 0) + 1;
    this.#started.set(line.name, n);
    const file = `${line.name.replaceAll(" ", "-")}${n > 1 ? `-${n}` : ""}.log`;
    const path = join(this.logs, file);
    const log = fileSink(path);
    const p = new DemoProcess(line.name, line.program, line.args, log.sink, { stdin });
    this.#procs.push(p);
    // A log file is closed once its program has exited and its last line is in.
    void p.status.then(() => log.close());
    this.say(`  started ${line.name} (pid ${p.pid}), output in ${file}`);
    return p;
  }
}
