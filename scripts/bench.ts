/**
 * `deno task bench [--steps 100,1000,5000,10000] [--window 10]`: how far one Central goes.
 *
 * First the raw ceiling: a bare kafkajs producer → consumer of telemetry-sized messages on
 * the same broker. Then, for each fleet size, a real EV_Central process under a fleet
 * (scripts/fleet.ts) where every CP supplies and sends telemetry at 1 Hz while drivers keep
 * requesting. Prints a table and saves it as JSON and Markdown in bench/results/.
 *
 * Uses EV_KAFKA_BROKER, or starts a local broker. Not part of the test run.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { setLevel } from "../shared/log.ts";
import { Fleet } from "./fleet.ts";
import { freePort, startBroker } from "./broker.ts";
import { PROGRAMS } from "./programs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  args: Deno.args,
  options: {
    steps: { type: "string", default: "100,1000,5000,10000" },
    window: { type: "string", default: "10" },
    "request-rate": { type: "string", default: "20" },
  },
});
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
  central_decision_p99_ms: number;
  lag_p99_ms: number;
  fault_to_averiado_ms: number;
  close_to_desconectado_ms: number;
  central_rss_mb: number;
  central_cpu_pct: number;
}

function procStats(pid: number): { rssMb: number; cpuS: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  return { rssMb: rssKb / 1024, cpuS: ticks / 100 };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function step(cps: number, ceiling: number): Promise<StepResult> {
  const prefix = `bench${cps}_${crypto.randomUUID().slice(0, 6)}_`;
  Deno.env.set("EV_TOPIC_PREFIX", prefix);
  const dir = await Deno.makeTempDir({ prefix: "ev-bench-" });
  const port = freePort();
  const http = freePort();
  const p = PROGRAMS.central;
  const central = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...p.permissions,
      join(ROOT, p.entry),
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
    stderr: "null",
  }).spawn();
  const api = `http://127.0.0.1:${http}`;
  const metrics = async () =>
    (await (await fetch(`${api}/metrics`)).json()) as Record<string, number>;
  const cpState = async (id: string) =>
    ((await (await fetch(`${api}/cps/${id}`)).json()) as { state: string }).state;
  const fleet = new Fleet({
    broker: bootstrap!,
    central: { host: "127.0.0.1", port },
    cps,
    requestRate: 0,
    unknownShare: 0,
    faultRate: 0,
    durationS: 3600,
    supplyAll: true,
  });
  try {
    await waitUntil(
      "Central",
      () => fetch(`${api}/metrics`).then(async (r) => (await r.body?.cancel(), true), () => false),
      60_000,
    );
    await fleet.start();
    await fleet.registered(180_000);
    await fleet.requestAll();
    await waitUntil(`${cps} sessions`, async () => (await metrics()).running >= cps, 180_000);
    // Steady state: every CP supplies; drivers keep asking (denied: all are busy).
    await new Promise((r) => setTimeout(r, 3000));
    fleet.answerLatencies.length = 0;
    const rate = Number(values["request-rate"]);
    const asker = setInterval(() => fleet.requestRandom(), 1000 / rate);
    await fetch(`${api}/metrics?reset`).then((r) => r.body?.cancel());
    const m0 = await metrics();
    const sent0 = fleet.counters.telemetrySent;
    const s0 = procStats(central.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowS * 1000));
    const elapsed = (performance.now() - t0) / 1000;
    const m1 = await metrics();
    const s1 = procStats(central.pid);
    clearInterval(asker);
    const offered = (fleet.counters.telemetrySent - sent0) / elapsed;
    const ingested = (m1.telemetryApplied - m0.telemetryApplied) / elapsed;

    // Fault → AVERIADO, and link closed → DESCONECTADO, as Central's API shows them.
    const faults: number[] = [];
    const closes: number[] = [];
    // A state not shown within 10 s counts as 10 s (10000 in the table).
    const timed = async (act: () => unknown, shown: () => Promise<boolean>) => {
      const t = performance.now();
      await act();
      await waitUntil("the state", shown, 10_000).catch(() => {});
      return performance.now() - t;
    };
    for (const id of fleet.ids.slice(0, 5)) {
      faults.push(
        await timed(() => fleet.setFault(id, true), async () => (await cpState(id)) === "AVERIADO"),
      );
    }
    for (const id of fleet.ids.slice(5, 10)) {
      closes.push(
        await timed(() => fleet.closeLink(id), async () => (await cpState(id)) === "DESCONECTADO"),
      );
    }
    const lat = fleet.answerLatencies;
    return {
      cps,
      offered_per_s: Math.round(offered),
      ingested_per_s: Math.round(ingested),
      ratio_to_ceiling: Number((ingested / ceiling).toFixed(3)),
      answer_p50_ms: pct(lat, 0.5),
      answer_p99_ms: pct(lat, 0.99),
      answer_max_ms: pct(lat, 1),
      central_decision_p99_ms: m1.request_wait_p99_ms,
      lag_p99_ms: m1.lag_p99_ms,
      fault_to_averiado_ms: Math.round(Math.max(...faults)),
      close_to_desconectado_ms: Math.round(Math.max(...closes)),
      central_rss_mb: Math.round(s1.rssMb),
      central_cpu_pct: Math.round((100 * (s1.cpuS - s0.cpuS)) / elapsed),
    };
  } finally {
    await fleet.stop();
    try {
      central.kill("SIGINT");
    } catch { /* gone */ }
    await central.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const ceiling = await rawCeiling(100_000);
console.log(`raw kafkajs ceiling: ${Math.round(ceiling)} telemetry messages/s`);
const results: StepResult[] = [];
for (const n of steps) {
  console.log(`step: ${n} CPs …`);
  try {
    results.push(await step(n, ceiling));
    console.table([results.at(-1)]);
  } catch (e) {
    console.error(`step ${n} failed: ${(e as Error).message}`);
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
  `Raw kafkajs ceiling on this machine: **${Math.round(ceiling)}** telemetry messages/s.`,
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
