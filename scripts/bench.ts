/**
 * `deno task bench [--steps 100,1000,5000,10000] [--window 10] [--fleet-nice 19]
 * [--central-nice -10] [--central-root DIR] [--profile]`: how far one Central goes.
 *
 * First what checking a record's code costs (scripts/mac_cost.ts), and the raw ceiling: a bare
 * kafkajs producer → consumer of telemetry-sized messages on
 * the same broker. Then, for each fleet size, a real EV_Central process under fleet processes
 * (scripts/fleet.ts, up to 5,000 CPs each) where every CP supplies and sends telemetry at
 * 1 Hz, while a probe driver in this process asks for charges at a steady rate and times
 * the answers. Prints a table and saves it as JSON and Markdown in bench/results/;
 * `--profile` also prints where Central spends its CPU at each step.
 *
 * Uses EV_KAFKA_BROKER, or starts a local broker. Not part of the test run.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { setTimeout as delay } from "node:timers/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { eventually } from "../shared/process/eventually.ts";
import { lines } from "../shared/term/input.ts";
import { createKafka } from "../shared/kafka/client.ts";
import { kafkaCredentials } from "../shared/kafka/credentials.ts";
import { setLevel } from "../shared/process/log.ts";
import { topicNames } from "../shared/kafka/topics.ts";
import { RequestProbe } from "./request_probe.ts";
import { freePort, startBroker } from "./broker.ts";
import { PROGRAMS } from "./programs.ts";
import { CpuProfiler, hotSpots } from "./cpu_profile.ts";
import { macCost } from "./mac_cost.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  args: Deno.args,
  options: {
    steps: { type: "string", default: "100,1000,5000,10000" },
    window: { type: "string", default: "10" },
    "request-rate": { type: "string", default: "20" },
    profile: { type: "boolean", default: false },
    "fleet-nice": { type: "string", default: "0" },
    "central-nice": { type: "string", default: "0" },
    "central-root": { type: "string" },
  },
});
// The fleets stand in for charging points on machines of their own; on this one they run
// at a lower CPU priority, so that what they burn simulating 10,000 CPs does not count as
// Central's slowness. Central, the broker and the probe driver keep the normal priority.
// `--fleet-nice 0` measures everything on equal terms.
const fleetNice = Number(values["fleet-nice"]);
// `--central-nice -10` (as root) gives Central the CPU first, as it has on a machine of its
// own: on 2 cores shared with 10,000 simulated CPs, the scheduler otherwise preempts its
// event loop for up to ~120 ms at a time.
const centralNice = Number(values["central-nice"]);
// `--central-root DIR` runs the Central of another checkout (an older commit's clone) under
// this checkout's broker, fleets and probe, its fleets signing every record with keys of
// their own when that Central issues none: what a change costs Central itself, with the
// rest of the machine's load the same on both sides.
const centralRoot = values["central-root"] ?? ROOT;
const steps = values.steps!.split(",").map(Number);
const windowS = Number(values.window);
setLevel("error");

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};

let bootstrap = Deno.env.get("EV_KAFKA_BROKER");
let stopBroker = async () => {};
if (!bootstrap) {
  const broker = await startBroker({
    port: freePort(),
    dataDir: await Deno.makeTempDir({ prefix: "ev-bench-kafka-" }),
  });
  bootstrap = broker.bootstrap;
  stopBroker = () => broker.stop();
}
console.log(`broker ${bootstrap}`);

// --- raw ceiling ---------------------------------------------------------------------------
async function rawCeiling(count: number): Promise<number> {
  const kafka = new Kafka({
    clientId: "bench-raw",
    brokers: [bootstrap!],
    logLevel: logLevel.NOTHING,
  });
  const topic = `bench_raw_${crypto.randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-g`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let received = 0;
  let done: () => void;
  const all = new Promise<void>((r) => (done = r));
  await consumer.run({
    eachBatch: ({ batch }) => {
      for (const m of batch.messages) JSON.parse(m.value!.toString());
      received += batch.messages.length;
      if (received >= count) done();
      return Promise.resolve();
    },
  });
  const producer = kafka.producer();
  await producer.connect();
  const body = JSON.stringify({
    type: "TELEMETRY",
    id: crypto.randomUUID(),
    ts: Date.now(),
    cp_id: "F-00001",
    driver_id: "FD-1",
    session_id: crypto.randomUUID(),
    consumo_kwh: 1.234567,
    importe_eur: 0.43209845,
    seq: 42,
  });
  const t0 = performance.now();
  for (let i = 0; i < count; i += 1000) {
    await producer.send({
      topic,
      messages: Array.from(
        { length: 1000 },
        (_, j) => ({ key: `F-${(i + j) % 1000}`, value: body }),
      ),
    });
  }
  await all;
  const rate = count / ((performance.now() - t0) / 1000);
  await producer.disconnect();
  await consumer.disconnect();
  return rate;
}

// --- Central under a fleet -----------------------------------------------------------------
interface StepResult {
  cps: number;
  offered_per_s: number;
  ingested_per_s: number;
  ratio_to_ceiling: number;
  answer_p50_ms: number;
  answer_p99_ms: number;
  answer_max_ms: number;
  authorized_share: number;
  central_decision_p99_ms: number;
  central_loop_delay_max_ms: number;
  central_db_write_max_ms: number;
  lag_p99_ms: number;
  fault_to_averiado_ms: number;
  close_to_desconectado_ms: number;
  central_rss_mb: number;
  central_cpu_pct: number;
  fleet_cpu_pct: number;
  machine_busy_pct: number;
}

/** CPs per fleet process: one JS thread serves that many links and engines comfortably. */
const CPS_PER_FLEET = 5000;

/** CPs of the last fleet left free for the probe driver. */
const SPARE_CPS = 20;

/** A fleet child process, driven through its `--control` lines. */
class FleetProcess {
  readonly child: Deno.ChildProcess;
  readonly #lines: AsyncIterator<string>;

  constructor(args: string[]) {
    this.child = new Deno.Command("nice", {
      args: [
        "-n",
        String(fleetNice),
        Deno.execPath(),
        "run",
        "--allow-all",
        join(ROOT, "scripts", "fleet.ts"),
        "--control",
        ...args,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#lines = lines(this.child.stdout);
  }

  /** The next JSON line the fleet prints. */
  async next(): Promise<Record<string, unknown>> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error("the fleet process ended");
    return JSON.parse(value);
  }

  /** Sends a command and returns its answer. */
  async command(line: string): Promise<Record<string, unknown>> {
    const w = this.child.stdin.getWriter();
    await w.write(new TextEncoder().encode(line + "\n"));
    w.releaseLock();
    return await this.next();
  }

  async stop(): Promise<void> {
    await this.command("quit").catch(() => {});
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.child.status;
    clearTimeout(timer);
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const cpu = Deno.readTextFileSync("/proc/stat").split("\n")[0].split(/\s+/).slice(1).map(
    Number,
  );
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - cpu[3] - cpu[4], total }; // idle and iowait are not busy
}

function procStats(pid: number): { rssMb: number; cpuS: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  return { rssMb: rssKb / 1024, cpuS: ticks / 100 };
}

// Polled every 20 ms: the fault and close times of a step are read from these waits.
const waitUntil = (what: string, check: () => Promise<boolean>, timeoutMs: number) =>
  eventually(what, check, timeoutMs, 20);

/** Central's log of the last step that failed. */
let lastLog = "";

async function step(cps: number, ceiling: number): Promise<StepResult> {
  let ok = false;
  const prefix = `bench${cps}_${crypto.randomUUID().slice(0, 6)}_`;
  Deno.env.set("EV_TOPIC_PREFIX", prefix);
  const dir = await Deno.makeTempDir({ prefix: "ev-bench-" });
  const port = freePort();
  const http = freePort();
  const inspect = freePort();
  const p = PROGRAMS.central;
  const central = new Deno.Command("nice", {
    args: [
      "-n",
      String(centralNice),
      Deno.execPath(),
      "run",
      "--quiet",
      ...(values.profile ? [`--inspect=127.0.0.1:${inspect}`] : []),
      ...p.flags,
      join(centralRoot, p.entry),
      String(port),
      bootstrap!,
      join(dir, "c.db"),
      "--http",
      String(http),
      "--telemetry-timeout",
      "60",
    ],
    env: { EV_TOPIC_PREFIX: prefix, EV_LOG_LEVEL: "warn", NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Central's log stays with the step's files, for when a step goes wrong.
  const logFile = join(dir, "central.log");
  void central.stderr.pipeTo((await Deno.create(logFile)).writable).catch(() => {});
  const api = `http://127.0.0.1:${http}`;
  const metrics = async () =>
    (await (await fetch(`${api}/metrics`)).json()) as Record<string, number>;
  const cpState = async (id: string) =>
    ((await (await fetch(`${api}/cps/${id}`)).json()) as { state: string }).state;
  const fleets: FleetProcess[] = [];
  let probe: RequestProbe | undefined;
  try {
    await waitUntil(
      "Central",
      () => fetch(`${api}/metrics`).then(async (r) => (await r.body?.cancel(), true), () => false),
      60_000,
    );
    // Fleets come up one after the other, as the CPs of a growing network would.
    const total = cps + SPARE_CPS;
    let spare: string[] = [];
    for (let first = 1; first <= total; first += CPS_PER_FLEET) {
      const n = Math.min(CPS_PER_FLEET, total - first + 1);
      const last = first + n > total;
      const fleet = new FleetProcess([
        `--broker=${bootstrap}`,
        `--central=127.0.0.1:${port}`,
        `--cps=${n}`,
        `--first=${first}`,
        `--spare=${last ? SPARE_CPS : 0}`,
        "--request-rate=0",
        "--fault-rate=0",
        "--unknown-share=0",
        "--duration=3600",
        ...(values["central-root"] ? ["--own-keys"] : []),
      ]);
      fleets.push(fleet);
      spare = (await fleet.next()).spare as string[];
    }
    // Like real drivers, the fleet asks again for CPs that did not start (a request may be
    // denied while a link is down), until every CP but the spare ones supplies.
    let askedAt = 0;
    await waitUntil(`${cps} sessions`, async () => {
      if ((await metrics()).running >= cps) return true;
      if (Date.now() - askedAt > 20_000) {
        askedAt = Date.now();
        for (const f of fleets) await f.command("supply");
      }
      return false;
    }, 180_000);
    // EV_KAFKA_USER/EV_KAFKA_PASSWORD on a secure broker (the fleets inherit them too).
    const kafka = createKafka(bootstrap!, "ev-bench-probe", kafkaCredentials({}));
    probe = new RequestProbe(kafka, topicNames(), spare, Number(values["request-rate"]));
    await probe.start();
    // Steady state: every CP but the spare ones supplies; the probe driver keeps asking.
    await delay(3000);
    probe.reset();
    await fetch(`${api}/metrics?reset`).then((r) => r.body?.cancel());
    const sent = async () => {
      let n = 0;
      for (const f of fleets) {
        n += ((await f.command("stats")).stats as { telemetrySent: number }).telemetrySent;
      }
      return n;
    };
    const fleetCpu = () => fleets.reduce((a, f) => a + procStats(f.child.pid).cpuS, 0);
    const m0 = await metrics();
    const sent0 = await sent();
    const profiler = values.profile ? new CpuProfiler(inspect) : undefined;
    await profiler?.start();
    const s0 = procStats(central.pid);
    const f0 = fleetCpu();
    const k0 = machineTicks();
    const t0 = performance.now();
    await delay(windowS * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const m1 = await metrics();
    const s1 = procStats(central.pid);
    const f1 = fleetCpu();
    const k1 = machineTicks();
    const offered = ((await sent()) - sent0) / elapsed;
    const probed = probe.result();
    const profile = await profiler?.stop();
    if (profile) {
      const file = join(await Deno.makeTempDir({ prefix: "ev-bench-prof-" }), "central.cpuprofile");
      await Deno.writeTextFile(file, JSON.stringify(profile));
      console.log(`Central's CPU profile at ${cps} CPs (${file}); self time:`);
      console.table(hotSpots(profile, 25));
    }
    const ingested = (m1.telemetryApplied - m0.telemetryApplied) / elapsed;

    // Fault → AVERIADO, and link closed → DESCONECTADO, as Central's API shows them, timed
    // from the moment the fleet acted. A state not shown within 10 s counts as 10 s.
    const timed = async (command: string, id: string, state: string) => {
      const { at } = (await fleets[0].command(`${command} ${id}`)) as { at: number };
      await waitUntil(state, async () => (await cpState(id)) === state, 10_000).catch(() => {});
      return Date.now() - at;
    };
    const faults: number[] = [];
    const closes: number[] = [];
    for (let i = 1; i <= 5; i++) faults.push(await timed("fault", fleetId(i), "AVERIADO"));
    for (let i = 6; i <= 10; i++) closes.push(await timed("close", fleetId(i), "DESCONECTADO"));
    const lat = probed.latenciesMs;
    const answered = probed.authorized + probed.denied;
    ok = true;
    return {
      cps,
      offered_per_s: Math.round(offered),
      ingested_per_s: Math.round(ingested),
      ratio_to_ceiling: Number((ingested / ceiling).toFixed(3)),
      answer_p50_ms: pct(lat, 0.5),
      answer_p99_ms: pct(lat, 0.99),
      answer_max_ms: pct(lat, 1),
      authorized_share: Number((probed.authorized / Math.max(1, answered)).toFixed(2)),
      central_decision_p99_ms: m1.request_wait_p99_ms,
      central_loop_delay_max_ms: m1.loop_delay_max_ms,
      central_db_write_max_ms: m1.db_write_max_ms,
      lag_p99_ms: m1.lag_p99_ms,
      fault_to_averiado_ms: Math.max(...faults),
      close_to_desconectado_ms: Math.max(...closes),
      central_rss_mb: Math.round(s1.rssMb),
      central_cpu_pct: Math.round((100 * (s1.cpuS - s0.cpuS)) / elapsed),
      fleet_cpu_pct: Math.round((100 * (f1 - f0)) / elapsed),
      machine_busy_pct: Math.round((100 * (k1.busy - k0.busy)) / (k1.total - k0.total)),
    };
  } finally {
    await probe?.stop();
    await Promise.all(fleets.map((f) => f.stop()));
    try {
      central.kill("SIGINT");
    } catch { /* gone */ }
    await central.status;
    if (ok) await Deno.remove(dir, { recursive: true }).catch(() => {});
    else lastLog = logFile;
  }
}

/** The fleet's id of its `i`-th CP. */
const fleetId = (i: number) => `F-${String(i).padStart(5, "0")}`;

const mac = await macCost();
console.log("checking a record's code, µs per record:");
console.table([mac]);
const ceiling = await rawCeiling(100_000);
console.log(`raw kafkajs ceiling: ${Math.round(ceiling)} telemetry messages/s`);
const results: StepResult[] = [];
for (const n of steps) {
  console.log(`step: ${n} CPs …`);
  try {
    results.push(await step(n, ceiling));
    console.table([results.at(-1)]);
  } catch (e) {
    console.error(`step ${n} failed: ${(e as Error).message} (Central's log: ${lastLog})`);
    break;
  }
}
await stopBroker();
if (results.length === 0) {
  console.error("no step completed: bench/results left as they were");
  Deno.exit(1);
}

const headers = Object.keys(results[0] ?? {});
const md = [
  `Raw kafkajs ceiling on this machine: **${Math.round(ceiling)}** telemetry messages/s. ` +
  `Fleets at nice ${fleetNice}, Central at nice ${centralNice}. Checking a record's code: ` +
  `${mac.blake3_keyed_us} µs (keyed BLAKE3; HMAC-SHA256 ${mac.hmac_sha256_node_us} µs).`,
  "",
  `| ${headers.join(" | ")} |`,
  `| ${headers.map(() => "---").join(" | ")} |`,
  ...results.map((r) => `| ${Object.values(r).join(" | ")} |`),
].join("\n");
console.log(`\n${md}\n`);
const outDir = join(ROOT, "bench", "results");
await Deno.mkdir(outDir, { recursive: true });
const stampName = new Date().toISOString().replace(/[:.]/g, "-");
const json = JSON.stringify(
  {
    at: new Date().toISOString(),
    ceiling_per_s: Math.round(ceiling),
    window_s: windowS,
    fleet_nice: fleetNice,
    central_nice: centralNice,
    central_root: centralRoot,
    steps: results,
  },
  null,
  2,
);
await Deno.writeTextFile(join(outDir, `${stampName}.json`), json);
await Deno.writeTextFile(join(outDir, "latest.json"), json);
await Deno.writeTextFile(join(outDir, "latest.md"), md + "\n");
console.log(`saved bench/results/latest.json and latest.md`);
Deno.exit(0);
