/**
 * Issue 14: the launch scripts of deploy/, run for real against stubs. A copy of deploy/ gets
 * small executables named like the programs (common.sh prefers binaries next to the scripts)
 * that record their working folder and arguments, then sleep; the tests check what a person
 * starting PC1, PC2 or PC3 would check: which programs run, on which ports, whether they keep
 * running, and that Ctrl+C stops them all. Every tmux server is private (its own socket and
 * TMUX_TMPDIR); every stub is killed at the end.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { eventually, ROOT } from "./harness.ts";
import { missingTool } from "./missing_tool.ts";

const DEPLOY = join(ROOT, "deploy");
const IP2 = "10.0.0.2";

/** How a stub was started. */
interface Started {
  program: string;
  pid: number;
  cwd: string;
  /** Its EV_TOPIC_PREFIX, standing for every variable our programs read. */
  prefix: string;
  args: string[];
}

/** A process is running (not gone, not a zombie). */
async function alive(pid: number): Promise<boolean> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  return stat !== "" && !/\) Z /.test(stat);
}

/** A copy of deploy/ whose programs (and docker, and the broker) are stubs. */
class Kit {
  readonly deploy: string;
  readonly work: string;
  readonly #out: string;
  readonly #bin: string;
  #pids = new Set<number>();

  private constructor(readonly root: string) {
    this.deploy = join(root, "deploy");
    this.work = join(root, "work");
    this.#out = join(root, "started");
    this.#bin = join(root, "bin");
  }

  /** Copies deploy/ and writes the stubs; `docker` says whether `docker info` succeeds. */
  static async create(docker = false): Promise<Kit> {
    const kit = new Kit(await Deno.makeTempDir({ prefix: "ev-deploy-" }));
    for (const dir of [kit.deploy, kit.work, kit.#out, kit.#bin, join(kit.root, "scripts")]) {
      await Deno.mkdir(dir, { recursive: true });
    }
    for await (const f of Deno.readDir(DEPLOY)) {
      if (f.isFile) await Deno.copyFile(join(DEPLOY, f.name), join(kit.deploy, f.name));
    }
    await Deno.copyFile(
      join(ROOT, "scripts", "ensure-deno.sh"),
      join(kit.root, "scripts", "ensure-deno.sh"),
    );
    // Written under another name first, so that a record is never read half-written.
    const record = (name: string, extra = "") =>
      `printf '%s\\n' "$PWD" "$EV_TOPIC_PREFIX" "$@" ${extra} > '${kit.#out}/.${name}.'$$ && ` +
      `mv '${kit.#out}/.${name}.'$$ '${kit.#out}/${name}.'$$`;
    for (const name of ["EV_Central", "EV_CP_M", "EV_CP_E", "EV_Driver"]) {
      await kit.#script(
        join(kit.deploy, name),
        `${record(name)}\necho "${name} started: $*"\nexec sleep 600`,
      );
    }
    await kit.#script(
      join(kit.#bin, "docker"),
      `[ "$1" = info ] && exit ${docker ? 0 : 1}\n` +
        record("docker", `"KAFKA_ADVERTISED_HOST=$KAFKA_ADVERTISED_HOST" "KAFKA_PORT=$KAFKA_PORT"`),
    );
    await Deno.writeTextFile(
      join(kit.root, "scripts", "broker.ts"),
      `const out = ${JSON.stringify(kit.#out)};
await Deno.writeTextFile(out + "/.broker." + Deno.pid, [Deno.cwd(), Deno.env.get("EV_TOPIC_PREFIX") ?? "", ...Deno.args].join("\\n") + "\\n");
await Deno.rename(out + "/.broker." + Deno.pid, out + "/broker." + Deno.pid);
for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, () => Deno.exit(0));
console.error("Kafka stub ready at here (Ctrl+C to stop)");
setInterval(() => {}, 60_000);
`,
    );
    return kit;
  }

  async #script(path: string, body: string): Promise<void> {
    await Deno.writeTextFile(path, `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }

  /** The environment of a script run: only `vars`, the stubs' PATH, and a private tmux. */
  env(vars: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: `${this.#bin}:${dirname(Deno.execPath())}:/usr/local/bin:/usr/bin:/bin`,
      HOME: this.root,
      TERM: "xterm",
      TMUX_TMPDIR: this.root,
      ...vars,
    };
  }

  /** What the stubs recorded so far, in the order of their names and arguments. */
  async started(): Promise<Started[]> {
    const all: Started[] = [];
    for await (const f of Deno.readDir(this.#out)) {
      const m = /^(\w+)\.(\d+)$/.exec(f.name);
      if (!m) continue;
      const [cwd, prefix, ...args] = (await Deno.readTextFile(join(this.#out, f.name))).split(
        "\n",
      );
      args.pop(); // the last newline
      const s = { program: m[1], pid: Number(m[2]), cwd, prefix, args };
      this.#pids.add(s.pid);
      all.push(s);
    }
    const key = (s: Started) => [s.program, ...s.args].join(" ");
    return all.sort((a, b) => key(a) < key(b) ? -1 : 1);
  }

  /** Waits until exactly `n` stubs have started, and returns them. */
  waitStarted(n: number): Promise<Started[]> {
    return eventually(`${n} programs started`, async () => {
      const s = await this.started();
      assert.ok(s.length <= n, `more than ${n} started: ${JSON.stringify(s)}`);
      return s.length === n && s;
    });
  }

  /** Runs deploy/<script> without a terminal (stdin /dev/null, output piped). */
  run(script: string, args: string[], vars: Record<string, string> = {}): Run {
    return new Run(
      new Deno.Command("bash", {
        args: [join(this.deploy, script), ...args],
        cwd: this.work,
        env: this.env(vars),
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
    );
  }

  /** Kills every stub it saw that still runs, and removes the copy. */
  async cleanup(): Promise<void> {
    await this.started().catch(() => {});
    for (const pid of this.#pids) {
      // Only a stub: a pid that ended may have been given to another process since.
      const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
      if (!cmdline.includes("sleep\u0000600") && !cmdline.includes(this.root)) continue;
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/** A script running without a terminal; its output is collected. */
class Run {
  output = "";
  readonly status: Promise<Deno.CommandStatus>;

  #ended?: Deno.CommandStatus;

  constructor(readonly child: Deno.ChildProcess) {
    const collect = (s: ReadableStream<Uint8Array>) =>
      s.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (chunk) => void (this.output += chunk) }),
      );
    const done = Promise.all([collect(child.stdout), collect(child.stderr)]);
    this.status = child.status.then(async (s) => (await done, this.#ended = s));
  }

  /** Waits for the script to exit on its own, with a deadline. */
  ended(): Promise<Deno.CommandStatus> {
    return eventually("the script to exit", () => this.#ended);
  }

  /** Waits for `re` in the output; fails at once, with the output, if the script ended. */
  async waitFor(re: RegExp): Promise<void> {
    await eventually(`${re} in the script's output`, () => {
      if (re.test(this.output)) return true;
      if (this.#ended) {
        throw new Error(`the script ended without ${re}; it printed:\n${this.output}`);
      }
    });
  }

  stop(): Promise<Deno.CommandStatus> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* ended */ }
    return this.status;
  }
}

/** Runs a tmux command on a private server. */
async function tmux(kit: Kit, socket: string, ...args: string[]): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("tmux", {
      args: ["-L", socket, ...args],
      env: kit.env(),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw missingTool("tmux is not installed", "tmux");
  }
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!out.success) throw new Error(`tmux ${args.join(" ")}: ${text(out.stderr).trim()}`);
  return text(out.stdout);
}

async function allDead(pids: number[]): Promise<boolean> {
  return (await Promise.all(pids.map(alive))).every((a) => !a);
}

/**
 * Runs `script` in a pane of a tmux session of the test's own, as a person working inside tmux
 * would, and checks `expect` on what started; then Ctrl+C in the script's pane stops them all.
 */
async function insideTmux(
  script: string,
  args: string[],
  programs: number,
  vars: Record<string, string>,
  expect: (started: Started[], kit: Kit) => void,
): Promise<void> {
  const kit = await Kit.create();
  const socket = `ev-deploy-${crypto.randomUUID().slice(0, 8)}`;
  const session = `evcharging-${script.replace(".sh", "")}`;
  try {
    await Deno.writeTextFile(join(kit.work, "requests.txt"), "CP-01\n");
    await Deno.writeTextFile(join(kit.work, "requests_D1.txt"), "CP-02\n");
    const line = ["env", ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), "bash"]
      .concat(join(kit.deploy, script), ...args).join(" ");
    await tmux(
      kit,
      socket,
      "new-session",
      "-d",
      "-s",
      "me",
      "-x",
      "200",
      "-y",
      "50",
      "-c",
      kit.work,
      line,
    );
    await tmux(kit, socket, "set-option", "-t", "me", "remain-on-exit", "on");
    const screen = () => tmux(kit, socket, "capture-pane", "-p", "-t", "me");
    await eventually("the script to say how to stop its programs", async () => {
      const text = await screen();
      if (/Ctrl\+C here stops them all/.test(text)) return true;
      const dead = await tmux(kit, socket, "list-panes", "-t", "me", "-F", "#{pane_dead}");
      if (dead.trim() === "1") {
        throw new Error(`${script} ended inside tmux; it printed:\n${text.trim()}`);
      }
    });
    const started = await kit.waitStarted(programs);
    expect(started, kit);
    const panes = await tmux(kit, socket, "list-panes", "-s", "-t", `=${session}`);
    assert.equal(panes.trim().split("\n").length, started.length, "a pane per program");
    for (const s of started) assert.ok(await alive(s.pid), `${s.program} keeps running`);

    await tmux(kit, socket, "send-keys", "-t", "me", "C-c");
    await eventually("Ctrl+C to stop every program", () => allDead(started.map((s) => s.pid)));
    await eventually(
      "the programs' session to close",
      () => tmux(kit, socket, "has-session", "-t", `=${session}`).then(() => false, () => true),
    );
    await eventually(
      "the script to end",
      async () =>
        (await tmux(kit, socket, "list-panes", "-t", "me", "-F", "#{pane_dead}")).trim() === "1",
    );
  } finally {
    await tmux(kit, socket, "kill-server").catch(() => {});
    await kit.cleanup();
  }
}

Deno.test("pc1.sh inside tmux: a driver per id in a session of its own, kept running until Ctrl+C", () =>
  insideTmux("pc1.sh", [IP2, "D1", "D2"], 2, {
    KAFKA_PORT: "19092",
    EV_TOPIC_PREFIX: "t1_",
  }, (started, kit) => {
    // In the folder and with the variables of the script, not those of the tmux server.
    assert.deepEqual(started.map((s) => [s.program, s.cwd, s.prefix, ...s.args]), [
      ["EV_Driver", kit.work, "t1_", `${IP2}:19092`, "D1", "--file", "requests_D1.txt"],
      ["EV_Driver", kit.work, "t1_", `${IP2}:19092`, "D2", "--file", "requests.txt"],
    ]);
  }));

Deno.test("pc3.sh inside tmux: an engine and a monitor per CP, kept running until Ctrl+C", () =>
  insideTmux("pc3.sh", [IP2, "CP-01"], 2, { LOCATION: "Alicante" }, (started) => {
    assert.deepEqual(started.map((s) => [s.program, ...s.args]), [
      ["EV_CP_E", `${IP2}:9092`, "7001"],
      [
        "EV_CP_M",
        "127.0.0.1:7001",
        `${IP2}:7000`,
        "CP-01",
        "--location",
        "Alicante",
        "--price",
        "0.35",
      ],
    ]);
  }));

Deno.test("pc1.sh on a terminal outside tmux: attached to the drivers, detaching stops them", async () => {
  const kit = await Kit.create();
  await Deno.writeTextFile(join(kit.work, "requests.txt"), "CP-01\n");
  // `script` gives the script a terminal; tmux then uses the default socket of TMUX_TMPDIR.
  const child = new Deno.Command("script", {
    args: ["-qefc", `bash ${join(kit.deploy, "pc1.sh")} ${IP2} D1`, "/dev/null"],
    cwd: kit.work,
    env: kit.env(),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const run = new Run(child);
  try {
    const [driver] = await kit.waitStarted(1);
    assert.deepEqual(driver.args, [`${IP2}:9092`, "D1", "--file", "requests.txt"]);
    await eventually(
      "the script to attach to the drivers' session",
      async () =>
        (await tmux(kit, "default", "list-clients", "-t", "=evcharging-pc1")).trim() !== "",
    );
    assert.ok(await alive(driver.pid), "the driver keeps running");

    await tmux(kit, "default", "detach-client", "-s", "=evcharging-pc1");
    await eventually("detaching to stop the driver", () => allDead([driver.pid]));
    await run.ended();
  } finally {
    await child.stdin.close().catch(() => {});
    await run.stop();
    await tmux(kit, "default", "kill-server").catch(() => {});
    await kit.cleanup();
  }
});

Deno.test("pc1.sh without a terminal: background drivers with logs, stopped by SIGTERM", async () => {
  const kit = await Kit.create();
  try {
    await Deno.writeTextFile(join(kit.work, "requests.txt"), "CP-01\n");
    const run = kit.run("pc1.sh", [IP2, "D1", "D2"], { KAFKA_PORT: "19093" });
    await run.waitFor(/Ctrl\+C stops everything/);
    const started = await kit.waitStarted(2);
    assert.deepEqual(started.map((s) => [s.program, ...s.args]), [
      ["EV_Driver", `${IP2}:19093`, "D1", "--file", "requests.txt"],
      ["EV_Driver", `${IP2}:19093`, "D2", "--file", "requests.txt"],
    ]);
    for (const s of started) assert.ok(await alive(s.pid), `${s.program} keeps running`);
    const log = join(kit.work, "logs", "driver-D1.log");
    await eventually("driver-D1's log", async () => {
      const text = await Deno.readTextFile(log).catch(() => "");
      return text.includes(`EV_Driver started: ${IP2}:19093 D1 --file requests.txt\n`);
    });

    await run.stop();
    await eventually("SIGTERM to stop every driver", () => allDead(started.map((s) => s.pid)));
  } finally {
    await kit.cleanup();
  }
});

Deno.test("pc3.sh: every port, the price and the place come from the environment", async () => {
  const kit = await Kit.create();
  try {
    const run = kit.run("pc3.sh", [IP2, "CP-01", "CP-02"], {
      KAFKA_PORT: "19092",
      CENTRAL_PORT: "17000",
      ENGINE_PORT_BASE: "17101",
      PRICE: "0.42",
      LOCATION: "C/Italia 5",
    });
    await run.waitFor(/Ctrl\+C stops everything/);
    const started = await kit.waitStarted(4);
    const monitor = (
      engine: string,
      cp: string,
    ) => ["EV_CP_M", engine, `${IP2}:17000`, cp, "--location", "C/Italia 5", "--price", "0.42"];
    assert.deepEqual(started.map((s) => [s.program, ...s.args]), [
      ["EV_CP_E", `${IP2}:19092`, "17101"],
      ["EV_CP_E", `${IP2}:19092`, "17102"],
      monitor("127.0.0.1:17101", "CP-01"), // each monitor reaches its engine on this PC
      monitor("127.0.0.1:17102", "CP-02"),
    ]);
    await run.stop();
  } finally {
    await kit.cleanup();
  }
});

Deno.test("pc3.sh: the README's defaults without the environment", async () => {
  const kit = await Kit.create();
  try {
    const run = kit.run("pc3.sh", [IP2, "CP-01", "CP-02"]);
    await run.waitFor(/Ctrl\+C stops everything/);
    const [e1, e2, m1] = await kit.waitStarted(4);
    assert.deepEqual([e1.args, e2.args], [[`${IP2}:9092`, "7001"], [`${IP2}:9092`, "7002"]]);
    assert.deepEqual(m1.args, [
      "127.0.0.1:7001",
      `${IP2}:7000`,
      "CP-01",
      "--location",
      Deno.hostname(),
      "--price",
      "0.35",
    ]);
    await run.stop();
  } finally {
    await kit.cleanup();
  }
});

Deno.test("pc2.sh with Docker: Kafka and Central on the ports of the environment", async () => {
  const kit = await Kit.create(true);
  try {
    const vars = { KAFKA_PORT: "19092", CENTRAL_PORT: "17000", HTTP_PORT: "18080" };
    const run = kit.run("pc2.sh", [IP2], vars);
    await run.waitFor(/web panel http:\/\/10\.0\.0\.2:18080\//);
    const [central, docker] = await kit.waitStarted(2);
    assert.deepEqual(
      [docker.program, ...docker.args],
      [
        "docker",
        ...["compose", "-f", join(kit.root, "compose.yaml"), "up", "-d", "--wait"],
        `KAFKA_ADVERTISED_HOST=${IP2}`, // what the stub was given: compose.yaml reads both
        "KAFKA_PORT=19092",
      ],
    );
    assert.deepEqual(
      [central.program, ...central.args],
      ["EV_Central", "17000", `${IP2}:19092`, "evcharging.db", "--http", "18080"],
    );
    Deno.kill(central.pid, "SIGTERM");
    await run.ended();

    // The positional port and database still win over CENTRAL_PORT.
    const again = kit.run("pc2.sh", [IP2, "17500", "other.db"], vars);
    await again.waitFor(/EV_Central started/);
    const [, next] = await kit.waitStarted(4); // and docker twice
    assert.deepEqual(
      [next.program, ...next.args],
      ["EV_Central", "17500", `${IP2}:19092`, "other.db", "--http", "18080"],
    );
    Deno.kill(next.pid, "SIGTERM");
    await again.ended();
  } finally {
    await kit.cleanup();
  }
});

Deno.test("pc2.sh without Docker: the local broker on KAFKA_PORT, stopped when Central ends", async () => {
  const kit = await Kit.create(false);
  try {
    const run = kit.run("pc2.sh", [IP2], { KAFKA_PORT: "19092" });
    await run.waitFor(/EV_Central started/);
    const [central, broker] = await kit.waitStarted(2);
    assert.deepEqual(
      broker.args,
      ["--port", "19092", "--listen", "0.0.0.0", "--advertised-host", IP2],
    );
    assert.deepEqual(central.args, ["7000", `${IP2}:19092`, "evcharging.db", "--http", "8080"]);
    Deno.kill(central.pid, "SIGTERM");
    await run.ended();
    await eventually("the broker to stop with Central", async () => !(await alive(broker.pid)));
  } finally {
    await kit.cleanup();
  }
});

Deno.test("a bad port: one line naming it, exit code 2, nothing started", async () => {
  const kit = await Kit.create(true);
  try {
    await Deno.writeTextFile(join(kit.work, "requests.txt"), "CP-01\n");
    const cases: [string, string[], Record<string, string>, RegExp][] = [
      ["pc1.sh", [IP2, "D1"], { KAFKA_PORT: "abc" }, /KAFKA_PORT must be .*1 to 65535.*"abc"/],
      ["pc2.sh", [IP2], { HTTP_PORT: "0" }, /HTTP_PORT must be .*"0"/],
      ["pc2.sh", [IP2, "70000"], {}, /central_port must be .*"70000"/],
      ["pc3.sh", [IP2, "CP-01"], { CENTRAL_PORT: "7000x" }, /CENTRAL_PORT must be .*"7000x"/],
      [
        "pc3.sh",
        [IP2, "CP-01", "CP-02"],
        { ENGINE_PORT_BASE: "65535" },
        /ENGINE_PORT_BASE .*65535/,
      ],
    ];
    for (const [script, args, vars, error] of cases) {
      const run = kit.run(script, args, vars);
      const status = await run.ended().finally(() => run.stop());
      assert.equal(status.code, 2, `${script} ${JSON.stringify(vars)}: ${run.output}`);
      const lines = run.output.trim().split("\n");
      assert.equal(lines.length, 1, run.output);
      assert.match(lines[0], error);
      assert.deepEqual(await kit.started(), [], "nothing started");
    }
    await assert.rejects(Deno.stat(join(kit.work, "logs")), "no logs folder either");
  } finally {
    await kit.cleanup();
  }
});

/** The `NAME=value` lines of deploy/defaults.env. */
async function defaults(): Promise<Map<string, string>> {
  const text = await Deno.readTextFile(join(DEPLOY, "defaults.env"));
  return new Map(
    [...text.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
  );
}

Deno.test("the .bat scripts take the same variables as the .sh scripts, defaults in one file", async () => {
  const vars = await defaults();
  for (const name of ["KAFKA_PORT", "CENTRAL_PORT", "HTTP_PORT", "ENGINE_PORT_BASE", "PRICE"]) {
    assert.ok(vars.has(name), `defaults.env sets ${name}`);
  }
  const used = (text: string, re: (v: string) => RegExp) =>
    [...vars.keys(), "LOCATION"].filter((v) => re(v).test(text)).sort();
  for (const pc of ["pc1", "pc2", "pc3"]) {
    const sh = await Deno.readTextFile(join(DEPLOY, `${pc}.sh`));
    const bat = await Deno.readTextFile(join(DEPLOY, `${pc}.bat`));
    assert.match(bat, /call "%~dp0common\.bat"/, `${pc}.bat loads the defaults`);
    assert.deepEqual(
      used(bat, (v) => new RegExp(`%${v}%`)),
      used(sh, (v) => new RegExp(`\\$\\{?${v}\\b`)),
      `${pc}.bat and ${pc}.sh use the same variables`,
    );
    for (const [file, text] of [[`${pc}.sh`, sh], [`${pc}.bat`, bat]]) {
      assert.doesNotMatch(text, /\b(9092|7000|7001|8080)\b/, `${file} repeats no default port`);
    }
  }
  const pc3 = await Deno.readTextFile(join(DEPLOY, "pc3.bat"));
  assert.match(pc3, /--location "%LOCATION%" --price %PRICE%/);
  assert.match(await Deno.readTextFile(join(DEPLOY, "common.bat")), /defaults\.env/);
});

Deno.test("the README's Deployment section names every variable and its default", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const section = readme.split("## Deployment on three PCs")[1].split("\n## ")[0];
  for (const [name, value] of await defaults()) {
    assert.match(section, new RegExp(`\`${name}\`[^\\n]*\\b${value.replace(".", "\\.")}\\b`), name);
  }
});
