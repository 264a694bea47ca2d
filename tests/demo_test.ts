/**
 * Issue 14: `./dev demo --scenario` plays the spec's demo list on its own against the real
 * programs, checks every outcome on Central's API, stops everything and exits 0; every port
 * the demo uses comes from an option.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCli } from "../shared/process/cli.ts";
import { DEMO_SPEC, demoConfig } from "../scripts/demo_options.ts";
import { broker, E2E, freePort, Proc, ROOT } from "./harness.ts";

const DEMO = join(ROOT, "scripts", "demo.ts");

/** Whether a process with this id still exists (Linux: its /proc entry). */
async function alive(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test(
  "demo --scenario plays every scenario on the real programs, checks each on Central, leaves nothing running",
  E2E,
  async () => {
    const bootstrap = await broker(); // the tests' broker: the demo must not start another
    const tmp = await Deno.makeTempDir({ prefix: "ev-demo-test-" });
    const engines = [freePort(), freePort(), freePort()];
    const demo = new Proc(
      "demo",
      [
        "run",
        "--allow-all",
        DEMO,
        "--scenario",
        "--plain",
        "--kafka",
        bootstrap,
        "--central-port",
        String(freePort()),
        "--http",
        String(freePort()),
        "--engine-ports",
        engines.join(","),
        "--pace",
        "0.5",
      ],
      // Topics of its own on the shared broker; its work folder (logs, DB) under ours.
      { EV_TOPIC_PREFIX: `demo${crypto.randomUUID().slice(0, 8)}_`, TMPDIR: tmp },
      ROOT,
    );
    try {
      const status = await demo.exit(360_000);
      const out = demo.output;
      assert.equal(status.code, 0, "exit code 0: every outcome was seen");
      assert.ok(!out.some((l) => /Starting a local Kafka broker/.test(l)), "no second broker");
      const titles = [
        /^SCENARIO 1\/7 happy flow: driver D1 asks for CP-01/,
        /^SCENARIO 2\/7 a busy CP denied: /,
        /^SCENARIO 3\/7 AVERIA during a charge: /,
        /^SCENARIO 4\/7 PARAR\/REANUDAR from the HTTP API: /,
        /^SCENARIO 5\/7 PARAR\/REANUDAR from a monitor: /,
        /^SCENARIO 6\/7 a monitor lost: /,
        /^SCENARIO 7\/7 persistence: /,
      ];
      for (const t of titles) assert.ok(out.some((l) => t.test(l)), `a line matching ${t}`);
      // What was seen, as the demo reports it after each scenario.
      const seen = out.filter((l) => l.startsWith("  ✓ "));
      assert.equal(seen.length, 7, `one ✓ line per scenario, got:\n${seen.join("\n")}`);
      const expected = [
        /AUTHORIZED at CP-01.*SUMINISTRANDO.*ticket ENDED \(COMPLETED\).*CP-01 ACTIVADO/,
        /D2 DENIED at CP-02 \(BUSY\).*DENIED at CP-99 \(UNKNOWN_CP\)/,
        /CP-02 AVERIADO.*D1's ticket ABORTED \(AVERIA\).*CP-02 ACTIVADO/,
        /without the token: refused \(401\).*CP-03 PARADO.*D2's ticket ABORTED \(PARAR\).*CP-03 ACTIVADO/,
        /CP-01 PARADO.*at the CP.*CP-01 ACTIVADO/,
        /CP-03 DESCONECTADO.*CP-03 ACTIVADO/,
        /3 sessions.*ENDED COMPLETED.*ABORTED AVERIA.*ABORTED PARAR/,
      ];
      for (const [i, re] of expected.entries()) assert.match(seen[i], re);
      assert.match(out.at(-1) ?? "", /every program stopped/);

      const pids = out.flatMap((l) => [...l.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1])));
      // Central, 3 engines, 3 monitors, the restarted monitor and 3 drivers.
      assert.ok(pids.length >= 11, `the demo names every program's pid, got ${pids.length}`);
      for (const pid of pids) assert.ok(!(await alive(pid)), `pid ${pid} is gone`);
    } catch (e) {
      console.error(demo.lines.join("\n"));
      throw e;
    } finally {
      await demo.stop();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test("the demo's ports are options whose defaults are today's ports", () => {
  const config = (args: string[]) => {
    const parsed = parseCli(DEMO_SPEC, args);
    assert.ok(parsed !== "help");
    return demoConfig(parsed);
  };
  const defaults = config([]);
  assert.equal(defaults.kafka, "127.0.0.1:9092");
  assert.equal(defaults.startBroker, true);
  assert.equal(defaults.centralPort, 7000);
  assert.equal(defaults.httpPort, 8080);
  assert.deepEqual(defaults.enginePorts, [7001, 7002, 7003]);
  assert.equal(defaults.scenario, false);

  const given = config([
    "--kafka-port",
    "19092",
    "--central-port",
    "17000",
    "--http",
    "18080",
    "--engine-ports",
    "17001, 17002,17003",
  ]);
  assert.equal(given.kafka, "127.0.0.1:19092");
  assert.deepEqual(
    [given.centralPort, given.httpPort, given.enginePorts],
    [17000, 18080, [17001, 17002, 17003]],
  );
  // A broker given by address is used as it is, never started; it may share no port with us.
  const remote = config(["--kafka", "10.0.0.2:7000", "--scenario"]);
  assert.equal(remote.kafka, "10.0.0.2:7000");
  assert.equal(remote.startBroker, false);
  assert.equal(remote.scenario, true);
});

Deno.test("a bad demo option: one line naming it, exit code 2, nothing started", async () => {
  const cases: [string[], RegExp][] = [
    [["--engine-ports", "7001,7002"], /--engine-ports needs 3 ports separated by commas/],
    [
      ["--engine-ports", "7001,x,7003"],
      /each of --engine-ports must be a number from 1 to 65535, got "x"/,
    ],
    [["--http", "7000"], /--http and --central-port are both port 7000/],
    [
      ["--engine-ports", "7001,7001,7003"],
      /the engine port of CP-02 and the engine port of CP-01 are both port 7001/,
    ],
    [["--kafka-port", "7002"], /the engine port of CP-02 and --kafka-port are both port 7002/],
    [["--kafka", "nohost"], /--kafka must look like host:port, got "nohost"/],
    [
      ["--kafka", "a:1", "--kafka-port", "2"],
      /give --kafka <host:port> or --kafka-port <port>, not both/,
    ],
    [["--central-port", "70000"], /--central-port must be a number from 1 to 65535/],
    [["--pace", "-1"], /--pace must be a number from 0 to 60/],
    [["--scenario", "--stop"], /--stop .* does not go with --scenario/],
    [["--nope"], /Unknown option '--nope'/],
  ];
  for (const [args, error] of cases) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", DEMO, ...args],
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 2, `${args.join(" ")}: exit code`);
    assert.equal(new TextDecoder().decode(out.stdout), "", `${args.join(" ")}: nothing started`);
    assert.equal(stderr.split("\n").length, 1, `${args.join(" ")}: one line, got ${stderr}`);
    assert.match(stderr, /^\.\/dev demo: error: /);
    assert.match(stderr, error, args.join(" "));
  }
});

Deno.test("demo --help names every port option with its default", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", DEMO, "--help"],
    env: { NO_COLOR: "1" },
  }).output();
  const help = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0);
  for (
    const option of [
      /--kafka <host:port>/,
      /--kafka-port <port>.*9092/,
      /--central-port <port>.*7000/,
      /--http <port>.*8080/,
      /--engine-ports .*7001,7002,7003/,
      /--scenario/,
    ]
  ) {
    assert.match(help, option);
  }
});
