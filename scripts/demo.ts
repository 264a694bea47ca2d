/**
 * `deno task demo`: the whole system on one machine — a Kafka broker (Docker compose when a
 * Docker engine answers, else the local broker from Maven Central), EV_Central, three
 * charging points (EV_CP_E + EV_CP_M each) and two drivers with sample requests files.
 *
 * On a terminal with tmux: a tmux session with a pane per program (window "central" with
 * Central and the drivers, window "cps" with the engines and monitors). F10 — or detaching,
 * Ctrl+b d — stops everything: every program gets Ctrl+C, then the broker stops.
 * Without tmux (or with --plain): every program's output, prefixed with its name; Ctrl+C
 * stops everything.
 *
 * @module
 */
import { eventually } from "../shared/process/eventually.ts";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { paint } from "../shared/term/colors.ts";
import { answers, startBroker } from "./broker.ts";
import { type ProgramName, PROGRAMS } from "./programs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TMUX_SOCKET = "evcharging-demo";
const { values } = parseArgs({
  args: Deno.args,
  options: {
    "kafka-port": { type: "string", default: "9092" },
    "central-port": { type: "string", default: "7000" },
    http: { type: "string", default: "8080" },
    duration: { type: "string", default: "20" },
    db: { type: "string" },
    plain: { type: "boolean", default: false },
    stop: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(`deno task demo — Kafka, EV_Central, 3 charging points and 2 drivers on this machine

Options: --kafka-port (9092) --central-port (7000) --http (8080) --duration <s> of each
supply (20) --db <file> (a fresh one) --plain (no tmux) --stop (end a demo left running)`);
  Deno.exit(0);
}

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

if (values.stop) {
  await stopTmux();
  Deno.exit(0);
}

const work = await Deno.makeTempDir({ prefix: "ev-demo-" });
const db = values.db ?? join(work, "central.db");
const kafkaPort = values["kafka-port"]!;
const bootstrap = `127.0.0.1:${kafkaPort}`;
const centralPort = values["central-port"]!;
const CPS = [
  { id: "CP-01", port: 7001, location: "C/Italia 5, Alicante", price: "0.35" },
  { id: "CP-02", port: 7002, location: "Plaza Mayor 1, Madrid", price: "0.42" },
  { id: "CP-03", port: 7003, location: "Rambla 10, Barcelona", price: "0.29" },
];
const DRIVERS = ["D1", "D2"];
/** The web panel's operator token in the demo (a real deployment picks its own). */
const DEMO_TOKEN = "demo";

function commandLine(program: ProgramName, args: string[]): string[] {
  const p = PROGRAMS[program];
  return [Deno.execPath(), "run", "--quiet", ...p.flags, join(ROOT, p.entry), ...args];
}
const programs: { name: string; program: ProgramName; args: string[] }[] = [
  {
    name: "central",
    program: "central",
    args: [centralPort, bootstrap, db, "--http", values.http!, "--token", DEMO_TOKEN],
  },
  ...CPS.flatMap((cp) => [
    {
      name: `engine ${cp.id}`,
      program: "engine" as const,
      args: [bootstrap, String(cp.port), "--duration", values.duration!],
    },
    {
      name: `monitor ${cp.id}`,
      program: "monitor" as const,
      args: [
        `127.0.0.1:${cp.port}`,
        `127.0.0.1:${centralPort}`,
        cp.id,
        "--location",
        cp.location,
        "--price",
        cp.price,
      ],
    },
  ]),
];
const drivers = DRIVERS.map((d) => ({
  name: `driver ${d}`,
  program: "driver" as const,
  args: [bootstrap, d, "--file", join(ROOT, "demo", `requests_${d}.txt`)],
}));

// --- the broker --------------------------------------------------------------------------
let stopBroker = async () => {};
if (await answers(bootstrap)) {
  console.log(`Using the Kafka broker already running at ${bootstrap}`);
} else if ((await run("docker", ["info"])).ok) {
  console.log("Starting Kafka with Docker compose …");
  const up = await new Deno.Command("docker", {
    args: ["compose", "-f", join(ROOT, "compose.yaml"), "up", "-d", "--wait"],
    env: { KAFKA_ADVERTISED_HOST: "127.0.0.1" },
  }).output();
  if (!up.success) {
    console.error("demo: error: docker compose could not start Kafka");
    Deno.exit(1);
  }
  stopBroker = async () => {
    await new Deno.Command("docker", {
      args: ["compose", "-f", join(ROOT, "compose.yaml"), "down"],
    }).output();
  };
} else {
  console.log(`Starting a local Kafka broker at ${bootstrap} (no Docker engine here) …`);
  try {
    const broker = await startBroker({ port: Number(kafkaPort), dataDir: join(work, "kafka") });
    stopBroker = () => broker.stop();
  } catch (e) {
    console.error(`demo: error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

// Resolves once Central shows every demo CP connected (or after 60 s, to go on regardless).
async function centralShowsAll(): Promise<void> {
  await eventually(
    "every demo CP on Central",
    async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${values.http}/cps`);
        const body = await res.json() as { items: { state: string }[] };
        const up = body.items.filter((c) => c.state !== "DESCONECTADO" && c.state !== "AVERIADO");
        return up.length >= CPS.length;
      } catch {
        return false; // not up yet
      }
    },
    60_000,
    300,
  ).catch(() => {});
}

const haveTmux = (await run("tmux", ["-V"])).ok;
if (!values.plain && haveTmux && Deno.stdin.isTerminal()) await tmuxDemo();
else await plainDemo();

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
    ` panel http://127.0.0.1:${values.http}/ (token ${DEMO_TOKEN}) · F10: stop · Ctrl+b n: next window `,
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
  if (!haveTmux && Deno.stdin.isTerminal()) {
    console.log("(tmux is not installed: showing every program's output here instead)");
  }
  const children: Deno.ChildProcess[] = [];
  const COLORS = ["cyan", "green", "yellow", "bold"] as const;
  const launch = (name: string, program: ProgramName, args: string[]) => {
    const [cmd, ...argv] = commandLine(program, args);
    const child = new Deno.Command(cmd, {
      args: argv,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const color = COLORS[children.length % COLORS.length];
    children.push(child);
    const tag = paint(color, name.padEnd(15));
    for (const stream of [child.stdout, child.stderr]) {
      void stream.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({
          write(chunk) {
            for (const line of chunk.split("\n").filter((l) => l.trim())) {
              console.log(`${tag}│ ${line}`);
            }
          },
        }),
      ).catch(() => {});
    }
    void child.status.then((s) => console.log(`${tag}│ (exited with code ${s.code})`));
  };
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    for (const child of children.reverse()) {
      try {
        child.kill("SIGINT");
      } catch { /* gone */ }
    }
    await Promise.allSettled(children.map((c) => c.status));
    await stopBroker();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => void stopAll());
  Deno.addSignalListener("SIGTERM", () => void stopAll());
  for (const p of programs) launch(p.name, p.program, p.args);
  await centralShowsAll();
  for (const d of drivers) launch(d.name, d.program, d.args);
  console.log(
    paint(
      "bold",
      `Demo running: web panel http://127.0.0.1:${values.http}/ (operator token "${DEMO_TOKEN}"). Ctrl+C stops everything.`,
    ),
  );
}
