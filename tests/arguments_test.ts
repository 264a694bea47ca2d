/**
 * Every program: --help, and one clear line with a non-zero exit on bad arguments or files.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ProgramName, PROGRAMS } from "../scripts/programs.ts";
import { freePort, ROOT } from "./harness.ts";

async function run(program: ProgramName, args: string[], cwd?: string) {
  const p = PROGRAMS[program];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...p.flags, join(ROOT, p.entry), ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    cwd,
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("deno.json's tasks run each program with the flags of the tests and binaries", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const task = { central: "central", monitor: "cp_monitor", engine: "cp_engine", driver: "driver" };
  for (const [name, p] of Object.entries(PROGRAMS)) {
    assert.equal(
      tasks[task[name as ProgramName]],
      ["deno run", ...p.flags, p.entry].join(" "),
      `the ${name} task`,
    );
  }
});

Deno.test("the deploy scripts run each program from source with the same flags", async () => {
  const script = await Deno.readTextFile(join(ROOT, "deploy", "common.sh"));
  for (const p of Object.values(PROGRAMS)) {
    const line = new RegExp(`^\\s*\\[${p.binary}\\]="([^"]*)"`, "m").exec(script);
    assert.equal(line?.[1], p.flags.join(" "), p.binary);
  }
});

Deno.test("--help names the program and its arguments, and exits 0", async () => {
  for (const [name, p] of Object.entries(PROGRAMS)) {
    const r = await run(name as ProgramName, ["--help"]);
    assert.equal(r.code, 0, name);
    assert.match(r.stdout, new RegExp(`^${p.binary} — `), name);
    assert.match(r.stdout, /Usage: /);
  }
});

Deno.test("bad arguments: one line naming the problem, exit code 2", async () => {
  const cases: [ProgramName, string[], RegExp][] = [
    ["central", [], /^EV_Central: error: missing argument <socket_port>/],
    ["central", ["70000", "h:9092"], /socket_port must be a number from 1 to 65535, got "70000"/],
    ["central", ["7000", "nohostport"], /kafka_host:port must look like host:port/],
    [
      "central",
      ["7000", "h:9092", "db", "--heartbeat-timeout", "x"],
      /--heartbeat-timeout must be/,
    ],
    ["monitor", ["127.0.0.1:7001", "127.0.0.1:7000"], /missing argument <cp_id>/],
    ["monitor", ["127.0.0.1:7001", "127.0.0.1:7000", "bad id!"], /cp_id must be 1-64/],
    [
      "monitor",
      ["127.0.0.1:7001", "127.0.0.1:7000", "CP-1", "--price", "-3"],
      /: error: --price must be a number from 0 to 100, got "-3"/,
    ],
    [
      "central",
      ["7000", "h:9092", "db", "--request-timeout", "-1"],
      /: error: --request-timeout must be a number from 1 to 3600, got "-1"/,
    ],
    ["central", ["7000", "h:9092", "db", "--auth", "-1"], /: error: Unknown option '-1'/],
    [
      "central",
      ["7000", "h:9092", "db", "--listen", "localhost"],
      /: error: --listen must be an IP address .*got "localhost"/,
    ],
    [
      "central",
      ["7000", "h:9092", "db", "--http", "example.com:8080"],
      /: error: --http must be .*got "example.com:8080"/,
    ],
    ["central", ["7000", "h:9092", "db", "--http", "127.0.0.1:0"], /--http port must be/],
    ["engine", ["h:9092", "0"], /listen_port must be a number/],
    ["engine", ["h:9092", "--duration", "0"], /--duration must be a number from 1/],
    ["engine", ["h:9092", "--power", "-5"], /--power must be a number from 0.1 to 1000, got "-5"/],
    ["engine", ["h:9092", "--listen", "1.2.3"], /--listen must be an IP address .*got "1.2.3"/],
    ["driver", ["h:9092"], /missing argument <driver_id>/],
    ["driver", ["h:9092", "D1", "--nope"], /EV_Driver: error: .*nope/],
  ];
  for (const [program, args, re] of cases) {
    const r = await run(program, args);
    assert.equal(r.code, 2, `${program} ${args.join(" ")}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split("\n").length, 1, `one line: ${r.stderr}`);
  }
});

Deno.test("Central refuses a database server address: it names what works, creates no file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const server of [
        "127.0.0.1:5432",
        "db.example.com:5432",
        "[::1]:5432",
        "postgres://ev@127.0.0.1:5432/ev",
        "postgresql://127.0.0.1/ev",
      ]
    ) {
      const r = await run("central", ["7000", "127.0.0.1:1", server], dir);
      assert.equal(r.code, 2, server);
      assert.equal(r.stderr.split("\n").length, 1, `one line: ${r.stderr}`);
      assert.match(r.stderr, /^EV_Central: error: db_path ".*" is a database server/);
      assert.match(r.stderr, /only a SQLite file path is supported, e\.g\. evcharging\.db/);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), [], `no file for ${server}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing or invalid requests file is named, with the line number", async () => {
  const missing = await run("driver", ["127.0.0.1:1", "D1", "--file", "/nonexistent/req.txt"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read requests file "\/nonexistent\/req.txt"/);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "r.txt"), "CP-01\n\nCP 02\n");
    const bad = await run("driver", ["127.0.0.1:1", "D1", "--file", join(dir, "r.txt")]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /r\.txt:3: "CP 02" is not a valid CP id/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Central says so when its database cannot be opened", async () => {
  const r = await run("central", ["7000", "127.0.0.1:1", "/nonexistent/dir/central.db"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot open database "\/nonexistent\/dir\/central.db"/);
});

Deno.test("an unreachable Kafka broker: a clear error and exit 1, not a crash", async () => {
  const port = freePort(); // nothing listens there now
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "r.txt"), "CP-01\n");
    const r = await run("driver", [`127.0.0.1:${port}`, "D1", "--file", join(dir, "r.txt")]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`EV_Driver: error: cannot use the Kafka broker at 127.0.0.1:${port}`),
    );
    assert.ok(!/^\s+at /m.test(r.stderr), "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
