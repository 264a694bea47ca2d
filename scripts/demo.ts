/**
 * `deno task demo` (`./dev demo`): the whole system on one machine — a Kafka broker (the one
 * given with `--kafka`, one already answering on `--kafka-port`, else Docker compose when a
 * Docker engine answers, else the local broker from Maven Central), EV_Central, three
 * charging points (EV_CP_E + EV_CP_M each) and two drivers with sample requests files.
 *
 * Ports, each an option with its default: Kafka `--kafka-port` 9092 (or `--kafka host:port`),
 * Central's monitor port `--central-port` 7000, its HTTP API and web panel `--http` 8080,
 * the engines' health ports `--engine-ports` 7001,7002,7003 (`--help` lists them all).
 *
 * On a terminal with tmux: a tmux session with a pane per program (window "central" with
 * Central and the drivers, window "cps" with the engines and monitors). F10 — or detaching,
 * Ctrl+b d — stops everything: every program gets Ctrl+C, then the broker stops.
 * Without tmux (or with --plain): every program's output, prefixed with its name; Ctrl+C
 * stops everything.
 * With --scenario: the spec's demo scenarios played on their own and checked on Central's
 * API, one line each (scripts/demo_scenarios.ts); each program's output goes to a log file;
 * everything stops at the end, and the exit code says whether every outcome was seen.
 *
 * @module
 */
import { join } from "node:path";
import { eventually } from "../shared/process/eventually.ts";
import { parseCommandLine } from "../shared/process/cli.ts";
import { type Color, paint } from "../shared/term/colors.ts";
import { demoBroker } from "./demo_broker.ts";
import { CentralApi } from "./demo_central.ts";
import {
  DEMO_TOKEN,
  driverLine,
  networkLines,
  type ProgramLine,
  sampleRequests,
} from "./demo_network.ts";
import { DEMO_SPEC, demoConfig } from "./demo_options.ts";
import { commandLine, DemoProcess, ROOT } from "./demo_process.ts";
import { playScenarios, SCENARIOS } from "./demo_scenarios.ts";
import { ScriptedNetwork } from "./demo_world.ts";

const TMUX_SOCKET = "evcharging-demo";
const DRIVERS = ["D1", "D2"];

const config = parseCommandLine(DEMO_SPEC, Deno.args, demoConfig);
const apiBase = `http://127.0.0.1:${config.httpPort}`;
const panel = `${apiBase}/`;

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    return { ok: o.success, out: new TextDecoder().decode(o.stdout).trim() };
  } catch {
    return { ok: false, out: "" };
  }
}
const tmux = (...args: string[]) => run("tmux", ["-L", TMUX_SOCKET, ...args]);

// Asks every program for a clean exit (Ctrl+C), waits for them, then ends the session.
async function stopTmux(): Promise<void> {
  const panes = await tmux("list-panes", "-s", "-t", "ev", "-F", "#{pane_id}");
  if (!panes.ok) return;
  for (const pane of panes.out.split("\n").filter(Boolean)) {
    await tmux("send-keys", "-t", pane, "C-c");
  }
  // The programs get 10 s to close their links and Kafka clients; then the panes go anyway.
  await eventually(
    "every pane to end",
    async () => {
      const dead = await tmux("list-panes", "-s", "-t", "ev", "-F", "#{pane_dead}");
      return !dead.ok || dead.out.split("\n").every((d) => d === "1");
    },
    10_000,
    200,
  ).catch(() => {});
  await tmux("kill-server");
}

if (config.stop) {
  await stopTmux();
  Deno.exit(0);
}

const work = await Deno.makeTempDir({ prefix: "ev-demo-" });
const db = config.db ?? join(work, "central.db");
let stopBroker: () => Promise<void>;
try {
  stopBroker = await demoBroker(config, join(work, "kafka"), (line) => console.log(line));
} catch (e) {
  console.error(`demo: error: ${(e as Error).message}`);
  Deno.exit(1);
}

const network = networkLines(config, db, () => config.durationS);
const programs = [network.central, ...network.cps.flatMap((cp) => [cp.engine, cp.monitor])];
const drivers = DRIVERS.map((d) => driverLine(config, d, sampleRequests(d)));

// Resolves once Central shows every demo CP connected (or after 60 s, to go on regardless).
async function centralShowsAll(): Promise<void> {
  const api = new CentralApi(apiBase, DEMO_TOKEN);
  await eventually(
    "every demo CP on Central",
    async () => {
      const cps = await api.cps().catch(() => []);
      const up = cps.filter((c) => c.state !== "DESCONECTADO" && c.state !== "AVERIADO");
      return up.length >= network.cps.length;
    },
    60_000,
    300,
  ).catch(() => {});
}

if (config.scenario) await scriptedDemo();
else if (!config.plain && (await run("tmux", ["-V"])).ok && Deno.stdin.isTerminal()) {
  await tmuxDemo();
} else await plainDemo();

// --- tmux: a pane per program ---------------------------------------------------------------
async function tmuxDemo(): Promise<void> {
  await tmux("kill-server"); // a demo left over from before
  const quote = (argv: string[]) => argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const [central, ...cpPrograms] = programs;
  await tmux(
    "new-session",
    "-d",
    "-s",
    "ev",
    "-n",
    "central",
    "-x",
    "200",
    "-y",
    "50",
    "-c",
    ROOT,
    quote(commandLine(central.program, central.args)),
  );
  // A program that exits keeps its pane, so its last words stay readable.
  await tmux("set-option", "-g", "remain-on-exit", "on");
  await tmux("set-option", "-w", "-t", "ev:central", "remain-on-exit", "on");
  await tmux("set-option", "-t", "ev", "mouse", "on");
  await tmux(
    "set-option",
    "-t",
    "ev",
    "status-right",
    ` panel ${panel} (token ${DEMO_TOKEN}) · F10: stop · Ctrl+b n: next window `,
  );
  await tmux("set-option", "-t", "ev", "status-right-length", "100");
  await tmux("bind-key", "-n", "F10", "detach-client");
  // Two driver panes under Central, side by side; they wait until the CPs are up.
  const driverPanes: string[] = [];
  for (const split of [["-t", "ev:central", "-v", "-l", "30%"], ["-h"]]) {
    const target = split[0] === "-t" ? [] : ["-t", driverPanes[0]];
    const pane = await tmux(
      "split-window",
      ...target,
      ...split,
      "-c",
      ROOT,
      "-P",
      "-F",
      "#{pane_id}",
      "echo 'waiting for the charging points…'; exec cat",
    );
    driverPanes.push(pane.out);
  }
  await tmux(
    "new-window",
    "-t",
    "ev",
    "-n",
    "cps",
    "-c",
    ROOT,
    quote(commandLine(cpPrograms[0].program, cpPrograms[0].args)),
  );
  for (const p of cpPrograms.slice(1)) {
    await tmux("split-window", "-t", "ev:cps", "-c", ROOT, quote(commandLine(p.program, p.args)));
    await tmux("select-layout", "-t", "ev:cps", "tiled");
  }
  await tmux("select-window", "-t", "ev:central");
  await tmux("select-pane", "-t", "ev:central.0");
  // Drivers start once Central shows every CP, so their first requests find them ready.
  void centralShowsAll().then(async () => {
    for (const [i, d] of drivers.entries()) {
      await tmux(
        "respawn-pane",
        "-k",
        "-t",
        driverPanes[i],
        "-c",
        ROOT,
        quote(commandLine(d.program, d.args)),
      );
    }
  });
  const attach = new Deno.Command("tmux", { args: ["-L", TMUX_SOCKET, "attach", "-t", "ev"] })
    .spawn();
  await attach.status;
  console.log("Stopping the demo …");
  await stopTmux();
  await stopBroker();
  console.log("Demo stopped; nothing left running.");
  Deno.exit(0);
}

// --- plain: prefixed output -----------------------------------------------------------------
async function plainDemo(): Promise<void> {
  if (!config.plain && Deno.stdin.isTerminal()) {
    console.log("(tmux is not installed: showing every program's output here instead)");
  }
  const children: DemoProcess[] = [];
  const COLORS: Color[] = ["cyan", "green", "yellow", "bold"];
  const launch = (p: ProgramLine) => {
    const tag = paint(COLORS[children.length % COLORS.length], p.name.padEnd(15));
    children.push(
      new DemoProcess(p.name, p.program, p.args, (line) => console.log(`${tag}│ ${line}`)),
    );
  };
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all(children.reverse().map((c) => c.stop()));
    await stopBroker();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => void stopAll());
  Deno.addSignalListener("SIGTERM", () => void stopAll());
  programs.forEach(launch);
  await centralShowsAll();
  drivers.forEach(launch);
  console.log(
    paint(
      "bold",
      `Demo running: web panel ${panel} (operator token "${DEMO_TOKEN}"). Ctrl+C stops everything.`,
    ),
  );
}

// --- scripted: the spec's scenarios, played and checked -------------------------------------
async function scriptedDemo(): Promise<void> {
  const say = (line: string) => console.log(line);
  const net = new ScriptedNetwork(config, work, db, say);
  say(
    `Scripted demo: Kafka at ${config.kafka}, EV_Central on port ${config.centralPort}, ` +
      `engines on ${config.enginePorts.join(", ")}; watch it on ${panel} ` +
      `(operator token "${DEMO_TOKEN}"); each program's output in ${net.logs}`,
  );
  let stopping: Promise<void> | undefined;
  const stopEverything = () =>
    stopping ??= (async () => {
      say("Stopping every program …");
      await net.stopAll();
      await stopBroker();
    })();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void stopEverything().then(() => Deno.exit(130)));
  }
  let failure: string | undefined;
  try {
    say("Starting EV_Central, then an engine and a monitor per charging point …");
    await net.start().catch((e) => {
      throw new Error(`starting the network: ${(e as Error).message}`);
    });
    await playScenarios(net, say);
  } catch (e) {
    failure = (e as Error).message;
  }
  await stopEverything();
  if (failure) {
    console.error(net.tails().join("\n"));
    console.error(`demo: error: ${failure}`);
    console.error(`every program stopped; their output is in ${net.logs}`);
    Deno.exit(1);
  }
  say(`Demo done: all ${SCENARIOS.length} scenarios seen; every program stopped.`);
  Deno.exit(0);
}
