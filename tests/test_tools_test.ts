/**
 * Issue 14: `./dev test` runs every test on a fresh machine, or says what to install. The
 * system packages the tests drive are listed once, in scripts/test-tools.sh: it installs the
 * missing ones with apt-get, or fails with the command that does. `deno task test` runs it
 * first; a test whose tool is missing fails with that hint instead of being skipped.
 * Machines are simulated with a PATH of stubs: nothing is installed for real.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./harness.ts";

const INSTALLER = join(ROOT, "scripts", "test-tools.sh");

/** A folder for PATH with links to `real` commands and stubs that record their arguments. */
async function fakePath(real: string[], stubs: string[] = []): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ev-tools-" });
  for (const name of real) await Deno.symlink(`/usr/bin/${name}`, join(dir, name));
  for (const name of stubs) {
    await Deno.writeTextFile(
      join(dir, name),
      `#!/bin/bash\necho "$*" >> '${dir}/${name}.calls'\n`,
      { mode: 0o755 },
    );
  }
  return dir;
}

const calls = (dir: string, name: string) =>
  Deno.readTextFile(join(dir, `${name}.calls`)).then((t) => t.trim().split("\n"), () => []);

async function run(command: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(command, { args, env, cwd: ROOT, stdin: "null" }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

// Stands for an installed browser: any executable will do, the installer only looks.
const BROWSER = { EV_CHROMIUM: "/bin/bash" };

Deno.test("test-tools.sh as root: installs what is missing with apt-get, nothing else", async () => {
  const path = await fakePath([], ["apt-get"]);
  try {
    const r = await run("/bin/bash", [INSTALLER], { PATH: path, ...BROWSER });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await calls(path, "apt-get"), [
      "update -qq",
      "install -y -qq tmux iproute2 openssl",
    ]);
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});

Deno.test("test-tools.sh with everything there: installs nothing, says nothing", async () => {
  const path = await fakePath([], ["apt-get", "tmux", "ip", "openssl"]);
  try {
    const r = await run("/bin/bash", [INSTALLER], { PATH: path, ...BROWSER });
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""]);
    assert.deepEqual(await calls(path, "apt-get"), []);
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});

Deno.test("test-tools.sh without apt-get: one line with the exact command, exit 1", async () => {
  const path = await fakePath([]);
  try {
    const r = await run("/bin/bash", [INSTALLER], { PATH: path, ...BROWSER });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "error: the tests need tmux iproute2 openssl: install them as root with: " +
        "apt-get install -y tmux iproute2 openssl",
    );
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});

Deno.test("deno task test stops before any test when it cannot install, naming the command", async () => {
  const path = await fakePath(["bash"]);
  try {
    // A test file that is not there: should the check not stop it, the run ends at once.
    const args = ["run", "--allow-all", "scripts/run_tests.ts", "tests/no_such_test.ts"];
    const r = await run(Deno.execPath(), args, {
      PATH: path,
      EV_KAFKA_BROKER: "127.0.0.1:1", // never used: it stops first
      ...BROWSER,
    });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /install them as root with: apt-get install -y tmux iproute2/);
    assert.doesNotMatch(r.stdout, /running \d+ tests?/);
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});

/** Runs one test file as `deno test` would, on a machine that lacks what `env` hides. */
function testFile(file: string, env: Record<string, string>) {
  return run(Deno.execPath(), ["test", "--allow-all", "--no-check", join(ROOT, "tests", file)], {
    NO_COLOR: "1",
    ...env,
  });
}

Deno.test("the web panel test fails, never skips, without a browser, saying how to get one", async () => {
  const r = await testFile("web_panel_test.ts", { EV_CHROMIUM: "/nonexistent/chromium" });
  assert.notEqual(r.code, 0, "it fails");
  assert.match(r.stdout, /\| 0 passed \| [1-9]\d* failed/);
  assert.doesNotMatch(r.stdout, /ignored/);
  assert.match(r.stdout, /no browser at \/nonexistent\/chromium: .*scripts\/test-tools\.sh/);
});

Deno.test("the terminal test fails, never skips, without tmux, saying how to get it", async () => {
  const path = await fakePath([]);
  try {
    // Given a broker address, a scenario starts none; the check comes before any connection.
    const r = await testFile("terminal_test.ts", { PATH: path, EV_KAFKA_BROKER: "127.0.0.1:1" });
    assert.notEqual(r.code, 0, "it fails");
    assert.match(r.stdout, /\| 0 passed \| [1-9]\d* failed/);
    assert.doesNotMatch(r.stdout, /ignored/);
    assert.match(r.stdout, /tmux is not installed: .*scripts\/test-tools\.sh/);
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});
