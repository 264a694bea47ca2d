/**
 * The scripted demo: the spec's list of what a demo must show ("Pruebas que deben verse en la
 * demo"), played on the real programs. Each scenario says what it will do in one line, does
 * it as a person would (a driver's requests, a key at an engine or monitor, an operator's
 * HTTP command, a killed process), and checks the outcome on Central's API with deadlines;
 * it returns one line of what was seen, or throws saying what was not.
 *
 * @module
 */
import { eventually } from "../shared/process/eventually.ts";
import { parseControlMessage, type Ticket } from "../shared/protocol/messages.ts";
import type { CentralApi } from "./demo_central.ts";
import type { DemoProcess } from "./demo_process.ts";

/** What the scenarios act on. */
export interface DemoWorld {
  api: CentralApi;
  /** The running engine of a demo CP (its stdin takes `ko`, `ok`, …). */
  engine(cpId: string): DemoProcess;
  /** The running monitor of a demo CP (its stdin takes `parar`, `activar`, …). */
  monitor(cpId: string): DemoProcess;
  /** Starts a CP's monitor again, as before. */
  restartMonitor(cpId: string): DemoProcess;
  /** Starts a driver that requests a charge at each of `cpIds` in turn. */
  driver(driverId: string, cpIds: string[]): Promise<DemoProcess>;
  /** Holds a state a moment so that people watching the panel see it (never for correctness). */
  pause(): Promise<void>;
}

/** What one scenario leaves for the next ones. */
export interface Story {
  /** Every ticket the drivers printed, in order. */
  tickets: Ticket[];
  /** A driver whose charge is still running, for the scenario that interrupts it. */
  charging?: DemoProcess;
}

/** One scenario: a title, what it does, and the doing and checking. */
export interface DemoScenario {
  title: string;
  plan: string;
  run(world: DemoWorld, story: Story): Promise<string>;
}

/** How long the happy flow's charge at CP-01 lasts (the other CPs' last until stopped). */
export const SHORT_CHARGE_S = 8;
/** The supply of the CPs whose charges a scenario interrupts: longer than the demo. */
export const LONG_CHARGE_S = 600;

// A driver starts a Deno process and joins a Kafka group before it asks: slow on a busy machine.
const ANSWER_MS = 60_000;
const STATE_MS = 15_000;

/** The seven scenarios, in the order they are played. */
export const SCENARIOS: DemoScenario[] = [
  {
    title: "happy flow",
    plan: "driver D1 asks for CP-01 → AUTHORIZED → telemetry → ticket",
    async run(w, story) {
      const d1 = await w.driver("D1", ["CP-01"]);
      await d1.waitFor(/^AUTHORIZED at CP-01/, ANSWER_MS);
      const live = await w.api.waitCp(
        "CP-01",
        "to show D1's telemetry",
        (c) =>
          c.state === "SUMINISTRANDO" && c.session?.driver_id === "D1" &&
          c.session.consumo_kwh > 0,
      );
      const t = await ticket(d1, "CP-01", "ENDED (COMPLETED)", SHORT_CHARGE_S * 1000 + 30_000);
      story.tickets.push(t);
      await w.api.waitState("CP-01", "ACTIVADO", STATE_MS);
      await exitsCleanly(d1);
      return `D1 AUTHORIZED at CP-01; Central showed CP-01 SUMINISTRANDO for D1 ` +
        `(${kwh(live.session!.consumo_kwh)} so far); ticket ENDED (COMPLETED) ${bill(t)}; ` +
        `CP-01 ACTIVADO again`;
    },
  },
  {
    title: "a busy CP denied",
    plan: "while driver D1 charges at CP-02, driver D2 asks for CP-02, then for CP-99 " +
      "(no such CP)",
    async run(w, story) {
      const d1 = await w.driver("D1", ["CP-02"]);
      story.charging = d1;
      await d1.waitFor(/^AUTHORIZED at CP-02/, ANSWER_MS);
      await w.api.waitCp(
        "CP-02",
        "to show D1's telemetry",
        (c) => c.session?.driver_id === "D1" && c.session.consumo_kwh > 0,
      );
      const since = Date.now();
      const d2 = await w.driver("D2", ["CP-02", "CP-99"]);
      await d2.waitFor(/^DENIED at CP-02/, ANSWER_MS);
      await w.api.waitEvent("denied", /^driver D2 asked for CP-02: BUSY$/, { cp: "CP-02", since });
      await d2.waitFor(/^DENIED at CP-99/, 30_000);
      await w.api.waitEvent("denied", /^driver D2 asked for CP-99: UNKNOWN_CP$/, { since });
      await exitsCleanly(d2);
      return "D2 DENIED at CP-02 (BUSY) while D1 charges there; D2 DENIED at CP-99 " +
        "(UNKNOWN_CP); Central recorded both denials";
    },
  },
  {
    title: "AVERIA during a charge",
    plan: "engine CP-02 reports a fault (key f) while D1 charges there → CP-02 AVERIADO, " +
      "D1's ticket ABORTED (AVERIA); the fault cleared → ACTIVADO",
    async run(w, story) {
      const d1 = story.charging;
      if (!d1?.running) throw new Error("D1's charge at CP-02 is not running any more");
      await w.engine("CP-02").type("ko");
      await w.api.waitState("CP-02", "AVERIADO", STATE_MS);
      const t = await ticket(d1, "CP-02", "ABORTED (AVERIA)", STATE_MS);
      story.tickets.push(t);
      story.charging = undefined;
      await exitsCleanly(d1);
      await w.pause();
      await w.engine("CP-02").type("ok");
      await w.api.waitState("CP-02", "ACTIVADO", STATE_MS);
      return `CP-02 AVERIADO; D1's ticket ABORTED (AVERIA) ${bill(t)}, what was delivered; ` +
        "fault cleared → CP-02 ACTIVADO";
    },
  },
  {
    title: "PARAR/REANUDAR from the HTTP API",
    plan: "while driver D2 charges at CP-03, the operator sends POST /command PARAR CP-03 " +
      "(first without the token), then REANUDAR",
    async run(w, story) {
      const d2 = await w.driver("D2", ["CP-03"]);
      await d2.waitFor(/^AUTHORIZED at CP-03/, ANSWER_MS);
      await w.api.waitCp(
        "CP-03",
        "to show D2's telemetry",
        (c) => c.session?.driver_id === "D2" && c.session.consumo_kwh > 0,
      );
      await w.pause(); // the panel shows the charge going before the operator stops it
      const refused = await w.api.command("PARAR", "CP-03", null);
      if (refused !== 401) throw new Error(`PARAR without the token got HTTP ${refused}, not 401`);
      const still = (await w.api.cps()).find((c) => c.cp_id === "CP-03");
      if (still?.state !== "SUMINISTRANDO") {
        throw new Error(`PARAR without the token changed CP-03 to ${still?.state}`);
      }
      const since = Date.now();
      await accepted(w.api.command("PARAR", "CP-03"), "PARAR CP-03");
      await w.api.waitState("CP-03", "PARADO", STATE_MS);
      await w.api.waitEvent("parar", /through the HTTP API/, { cp: "CP-03", since });
      const t = await ticket(d2, "CP-03", "ABORTED (PARAR)", STATE_MS);
      story.tickets.push(t);
      await exitsCleanly(d2);
      await w.pause();
      await accepted(w.api.command("REANUDAR", "CP-03"), "REANUDAR CP-03");
      await w.api.waitState("CP-03", "ACTIVADO", STATE_MS);
      return "without the token: refused (401), nothing changed; with it: CP-03 PARADO, " +
        `D2's ticket ABORTED (PARAR) ${bill(t)}; REANUDAR → CP-03 ACTIVADO`;
    },
  },
  {
    title: "PARAR/REANUDAR from a monitor",
    plan: "someone at CP-01 types parar on its monitor (key p), then activar (key a)",
    async run(w) {
      const since = Date.now();
      await w.monitor("CP-01").type("parar");
      await w.api.waitState("CP-01", "PARADO", STATE_MS);
      const stopped = await w.api.waitEvent("parar", /at the CP/, { cp: "CP-01", since });
      await w.pause();
      await w.monitor("CP-01").type("activar");
      await w.api.waitState("CP-01", "ACTIVADO", STATE_MS);
      await w.api.waitEvent("reanudar", /at the CP/, { cp: "CP-01", since });
      return `CP-01 PARADO (Central's event: "${stopped.detail}"); activar → CP-01 ACTIVADO`;
    },
  },
  {
    title: "a monitor lost",
    plan: "monitor CP-03 is killed → CP-03 DESCONECTADO; started again → ACTIVADO",
    async run(w) {
      const since = Date.now();
      const monitor = w.monitor("CP-03");
      monitor.signal("SIGKILL");
      await w.api.waitState("CP-03", "DESCONECTADO", STATE_MS);
      const lost = await w.api.waitEvent("disconnected", /./, { cp: "CP-03", since });
      await eventually("the killed monitor to be gone", () => !monitor.running, STATE_MS);
      await w.pause();
      const again = w.restartMonitor("CP-03");
      await w.api.waitState("CP-03", "ACTIVADO", ANSWER_MS);
      return `CP-03 DESCONECTADO ("${lost.detail}"); monitor started again (pid ${again.pid}) ` +
        "→ CP-03 ACTIVADO";
    },
  },
  {
    title: "persistence",
    plan: "every ticket of this demo, read back from Central's database with GET /sessions " +
      "and GET /events",
    async run(w, story) {
      const rows = [];
      for (const t of story.tickets) {
        const row = (await w.api.sessions({ cp: t.cp_id, driver: t.driver_id }))
          .find((r) => r.session_id === t.session_id);
        if (!row) throw new Error(`no sessions row for ${t.cp_id}'s ticket ${t.session_id}`);
        const same = row.status === t.status && row.end_reason === t.reason &&
          near(row.consumo_kwh, t.consumo_kwh) && near(row.importe_eur, t.importe_eur);
        if (!same) {
          throw new Error(
            `the sessions row of ${t.cp_id} (${row.status} ${row.end_reason} ` +
              `${row.consumo_kwh} kWh ${row.importe_eur} €) differs from its ticket`,
          );
        }
        const kinds = (await w.api.events({ session: t.session_id })).map((e) => e.kind);
        for (
          const kind of ["authorized", t.status === "ENDED" ? "session_ended" : "session_aborted"]
        ) {
          if (!kinds.includes(kind)) {
            throw new Error(`no ${kind} event for ${t.cp_id}'s session (got ${kinds.join(", ")})`);
          }
        }
        rows.push(`${row.cp_id} ${row.driver_id} ${row.status} ${row.end_reason} ${bill(t)}`);
      }
      return `${rows.length} sessions, each as its ticket, with its events: ${rows.join("; ")}`;
    },
  },
];

/**
 * Plays `scenarios` in turn: `SCENARIO i/n <title>: <plan>` before each, `  ✓ <what was
 * seen>` after it, then a pause for people watching. Throws at the first outcome not seen,
 * naming the scenario.
 */
export async function playScenarios(
  world: DemoWorld,
  say: (line: string) => void,
  scenarios: DemoScenario[] = SCENARIOS,
): Promise<void> {
  const story: Story = { tickets: [] };
  for (const [i, scenario] of scenarios.entries()) {
    const head = `SCENARIO ${i + 1}/${scenarios.length} ${scenario.title}`;
    say(`${head}: ${scenario.plan}`);
    let seen: string;
    try {
      seen = await scenario.run(world, story);
    } catch (e) {
      throw new Error(`${head}: ${(e as Error).message}`);
    }
    say(`  ✓ ${seen}`);
    if (i < scenarios.length - 1) await world.pause();
  }
}

/** The ticket a driver prints on its `TICKET <cp>: <status (reason)>` line (JSON at its end). */
async function ticket(
  driver: DemoProcess,
  cpId: string,
  outcome: string,
  timeoutMs: number,
): Promise<Ticket> {
  const escaped = outcome.replace(/[()]/g, "\\$&");
  const line = await driver.waitFor(new RegExp(`^TICKET ${cpId}: ${escaped}`), timeoutMs);
  const message = parseControlMessage(JSON.parse(line.slice(line.indexOf("{"))));
  if (message.type !== "TICKET") throw new Error(`not a ticket: ${line}`);
  return message;
}

/** Waits for a driver (done with its requests) to exit, and checks it exited 0. */
async function exitsCleanly(p: DemoProcess): Promise<void> {
  await eventually(`${p.name} to exit once its requests are done`, () => !p.running, 30_000);
  const { code } = await p.status;
  if (code !== 0) throw new Error(`${p.name} exited with code ${code}`);
}

async function accepted(status: Promise<number>, what: string): Promise<void> {
  const code = await status;
  if (code !== 200) throw new Error(`${what} with the operator token got HTTP ${code}`);
}

/** Equal as shown (3 decimals): the demo does not depend on the digits beyond. */
function near(a: number, b: number): boolean {
  return Math.abs(a - b) < 0.0005;
}

function kwh(n: number): string {
  return `${n.toFixed(3)} kWh`;
}

function bill(t: Ticket): string {
  return `${kwh(t.consumo_kwh)}, ${t.importe_eur.toFixed(3)} €`;
}
