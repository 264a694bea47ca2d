/**
 * `deno task chaos --seed <n> --minutes <m>`: the chaos campaign of issue 15. Runs the real
 * programs on three network-namespace hosts, lets a seeded nemesis cut cables, kill -9 and
 * freeze programs on a schedule, heals everything, waits until the system is quiet, and checks
 * the invariants against records written by different programs (docs/chaos.md).
 * Exits 0 when every invariant held over at least one session, 1 on any violation, 2 when it
 * could not run.
 *
 * @module
 */
import { sessionStates } from "./evidence.ts";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { check, passed } from "./checker.ts";
import {
  readCentralLogs,
  readRecord,
  readSessions,
  readTickets,
  unsettledCount,
} from "./collect.ts";
import { createHosts, hostsUnavailable } from "./hosts.ts";
import { type ChaosOptions, parseOptions, replayCommand, USAGE } from "./options.ts";
import { commandOf } from "./proc.ts";
import { report } from "./report.ts";
import { describeFault, schedule, steps } from "./schedule.ts";
import { campaignIds, campaignTargets } from "./targets.ts";
import { type Host, World } from "./world.ts";

let options: ChaosOptions | "help";
try {
  options = parseOptions(Deno.args);
} catch (e) {
  console.error(`chaos: error: ${(e as Error).message} (see --help)`);
  Deno.exit(2);
}
if (options === "help") {
  console.log(USAGE);
  Deno.exit(0);
}
const o = options;
const { cpIds, driverIds } = campaignIds(o);
const plan = schedule({
  seed: o.seed,
  durationMs: o.minutes * 60_000,
  targets: campaignTargets(cpIds, driverIds, o.standby),
});
const replay = replayCommand(o);
console.log(
  `chaos campaign: seed ${o.seed}, ${o.minutes} minute(s), ${o.cps} CPs, ${o.drivers} drivers`,
);
console.log(`replay: ${replay}`);
console.log(`schedule (${plan.length} faults, from the moment every program is up):`);
for (const f of plan) console.log(`  ${describeFault(f)}`);
if (o.plan) Deno.exit(0);

const unavailable = await hostsUnavailable();
if (unavailable) {
  console.error(`chaos: cannot run: ${unavailable}`);
  Deno.exit(2);
}

const started = performance.now();
const stamp = () => `[+${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s]`;
const say = (line: string) => console.log(`${stamp()} ${line}`);

/** Whether this checkout's engine keeps a record (its --help lists --record). */
async function engineKeepsRecord(): Promise<boolean> {
  const [cmd, ...args] = commandOf({
    program: "engine",
    args: ["--help"],
    wrap: [],
    cwd: ".",
    env: {},
  });
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(out.stdout).includes("--record");
}

const records = await engineKeepsRecord();
if (!records) {
  console.log(
    "engine record not available (EV_CP_E has no --record): I1 skips the engine-side comparison",
  );
}
if (!o.standby) console.log("standby Central: off (TODO: pass --standby once the lease lands)");

const dir = await Deno.makeTempDir({ prefix: "ev-chaos-" });
const hosts = await createHosts<Host>(["pc1", "pc2", "pc3"], crypto.randomUUID().slice(0, 4))
  .catch((e) => {
    console.error(`chaos: cannot make the hosts: ${(e as Error).message}`);
    Deno.exit(2);
  });
const interrupted = new AbortController();
const onSigint = () => interrupted.abort();
Deno.addSignalListener("SIGINT", onSigint);
let world: World | undefined;
let ok = false;
let checked = false;
try {
  world = await World.start({ ...o, records }, dir, hosts, say);
  await Deno.writeTextFile(join(dir, "commands.txt"), world.commands().join("\n") + "\n");

  const t0 = performance.now();
  for (const step of steps(plan)) {
    const wait = t0 + step.atMs - performance.now();
    if (wait > 0) await delay(wait, undefined, { signal: interrupted.signal });
    say(`${step.action === "inject" ? "FAULT" : "HEAL "} ${describeFault(step.fault)}`);
    await world.apply(step.fault, step.action === "inject");
  }
  const left = t0 + o.minutes * 60_000 - performance.now();
  if (left > 0) await delay(left, undefined, { signal: interrupted.signal });
  await world.brokerReady();
  world.stopFeeding();
  say(`schedule done, everything healed; waiting up to ${o.settleSeconds} s for quiet`);

  // Quiet: every driver at its prompt, no session RUNNING or provisional, and every engine's
  // ends acknowledged (an engine whose consumer is back last hears its acks last), for 3 polls
  // in a row.
  const deadline = performance.now() + o.settleSeconds * 1000;
  let quietPolls = 0;
  const enginesSettled = async () => {
    if (!records) return true;
    const recs = await Promise.all(world!.cpIds.map((cp) => readRecord(cp, world!.recordFile(cp))));
    return recs.every((r) => [...sessionStates(r).values()].every((s) => s === "acked"));
  };
  while (performance.now() < deadline && quietPolls < 3) {
    await delay(1_000, undefined, { signal: interrupted.signal });
    const quiet = world.driversIdle() && unsettledCount(world.db) === 0 && await enginesSettled();
    quietPolls = quiet ? quietPolls + 1 : 0;
  }
  say(quietPolls >= 3 ? "quiet" : `not quiet after ${o.settleSeconds} s (I4 will say what hangs)`);
  await world.stop();

  const rows = readSessions(world.db);
  const evidence = {
    rows,
    records: records
      ? await Promise.all(world.cpIds.map((cp) => readRecord(cp, world!.recordFile(cp))))
      : undefined,
    tickets: await readTickets(
      Object.fromEntries(world.driverIds.map((d) => [d, world!.ticketsDir(d)])),
    ),
    centrals: await readCentralLogs(world.centralLogs()),
  };
  const verdicts = check(evidence);
  ok = passed(verdicts, rows.length);
  checked = true;
  await Deno.writeTextFile(
    join(dir, "verdicts.json"),
    JSON.stringify({ seed: o.seed, replay, plan, verdicts }, null, 2),
  );
  console.log(
    report({ seed: o.seed, replay, faults: plan, sessions: rows.length, verdicts, passed: ok })
      .join("\n"),
  );
} catch (e) {
  if (interrupted.signal.aborted) console.error("chaos: interrupted");
  else console.error(`chaos: the campaign could not run: ${(e as Error).stack ?? e}`);
  for (const p of world?.procs.values() ?? []) {
    if (p.tail.length) {
      console.error(`----- ${p.name} (last lines) -----\n${p.tail.slice(-10).join("\n")}`);
    }
  }
} finally {
  Deno.removeSignalListener("SIGINT", onSigint);
  await world?.stop().catch(() => {});
  await hosts.cleanup();
}
if (ok && !o.keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
else console.log(`campaign folder (logs, database, records, tickets, verdicts.json): ${dir}`);
Deno.exit(ok ? 0 : checked ? 1 : 2);
