/**
 * `deno task demo`: the whole system on one machine — a local Kafka broker, EV_Central, one
 * charging point (EV_CP_E + EV_CP_M) and one driver with a sample requests file — with every
 * program's output shown under its name. Ctrl+C stops everything.
 *
 * Options: --kafka-port (default 9092), --central-port (7000), --engine-port (7001),
 * --duration seconds of each supply (15), --db (a fresh file in a temp folder).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { paint } from "../shared/colors.ts";
import { answers, startBroker } from "./broker.ts";
import { type ProgramName, PROGRAMS } from "./programs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  args: Deno.args,
  options: {
    "kafka-port": { type: "string", default: "9092" },
    "central-port": { type: "string", default: "7000" },
    "engine-port": { type: "string", default: "7001" },
    duration: { type: "string", default: "15" },
    db: { type: "string" },
  },
});
const work = await Deno.makeTempDir({ prefix: "ev-demo-" });
const db = values.db ?? join(work, "central.db");
const bootstrap = `127.0.0.1:${values["kafka-port"]}`;
const children: { name: string; child: Deno.ChildProcess }[] = [];
let stopBroker = async () => {};

async function stopAll(code: number): Promise<never> {
  for (const { child } of children.reverse()) {
    try {
      child.kill("SIGINT");
    } catch { /* gone */ }
  }
  await Promise.allSettled(children.map((c) => c.child.status));
  await stopBroker();
  Deno.exit(code);
}
Deno.addSignalListener("SIGINT", () => void stopAll(0));
Deno.addSignalListener("SIGTERM", () => void stopAll(0));

const COLORS = ["cyan", "green", "yellow", "bold"] as const;
function launch(program: ProgramName, name: string, args: string[]): Promise<void> {
  const p = PROGRAMS[program];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...p.permissions, join(ROOT, p.entry), ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const color = COLORS[children.length % COLORS.length];
  children.push({ name, child });
  let ready: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  for (const stream of [child.stdout, child.stderr]) {
    void stream.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write(chunk) {
          for (const line of chunk.split("\n").filter((l) => l.trim())) {
            console.log(`${paint(color, name.padEnd(9))}│ ${line}`);
            if (
              /listening for monitors|health checks on port|linked to Central|request\(s\)/.test(
                line,
              )
            ) {
              ready();
            }
          }
        },
      }),
    ).catch(() => {});
  }
  void child.status.then((s) => {
    console.log(`${paint(color, name.padEnd(9))}│ (exited with code ${s.code})`);
    ready();
  });
  return isReady;
}

if (await answers(bootstrap)) {
  console.log(`Using the Kafka broker already running at ${bootstrap}`);
} else {
  console.log(`Starting a local Kafka broker at ${bootstrap} …`);
  try {
    const broker = await startBroker({
      port: Number(values["kafka-port"]),
      dataDir: join(work, "kafka"),
    });
    stopBroker = () => broker.stop();
  } catch (e) {
    console.error(`demo: error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
const central = values["central-port"]!;
const engine = values["engine-port"]!;
await launch("central", "central", [central, bootstrap, db]);
await launch("engine", "engine", [bootstrap, engine, "--duration", values.duration!]);
await launch("monitor", "monitor", [
  `127.0.0.1:${engine}`,
  `127.0.0.1:${central}`,
  "CP-01",
  "--location",
  "C/Italia 5",
]);
await launch("driver", "driver D1", [
  bootstrap,
  "D1",
  "--file",
  join(ROOT, "demo", "requests_D1.txt"),
]);
console.log(paint("bold", `Demo running (database ${db}). Press Ctrl+C to stop everything.`));
