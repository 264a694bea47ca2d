/**
 * Issue 7: the disk under Central's database fills up. Central says so clearly and exits
 * non-zero instead of serving state it cannot store, and everything it had confirmed is in
 * the database. The small disk is a tmpfs in a private mount namespace (root only).
 */
import { setTimeout as delay } from "node:timers/promises";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { E2E, freePort, withScenario } from "./harness.ts";

const canMount = Deno.uid() === 0 &&
  await new Deno.Command("unshare", { args: ["--help"], stdout: "null", stderr: "null" })
    .output().then((o) => o.success, () => false);
if (!canMount) console.error("disk-full test skipped: it needs root and unshare (util-linux)");

Deno.test({
  name: "a full disk under the database: a clear error, exit 1, nothing confirmed is lost",
  ...E2E,
  ignore: !canMount,
  fn: () =>
    withScenario(async (s) => {
      const small = join(s.dir, "small");
      await Deno.mkdir(small);
      // 400 KiB of disk, 100 of them taken: room for the schema (in the file and again in
      // the WAL) and a handful of registrations, of some 25 KiB of WAL each.
      const script = [
        `mount -t tmpfs -o size=400k tmpfs '${small}'`,
        `dd if=/dev/zero of='${small}/filler' bs=1k count=100 2>/dev/null`,
        `"$@"; code=$?`,
        `cp '${small}'/central.db* '${s.dir}/'`,
        "exit $code",
      ].join("\n");
      const port = freePort();
      const central = s.spawn(
        "central",
        [String(port), s.bootstrap, join(small, "central.db"), "--http", "off"],
        "central (small disk)",
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"],
      );
      await central.waitFor(/listening for monitors/);
      const location = "A long address, ".repeat(7);
      for (let i = 1; i <= 30 && central.running; i++) {
        s.spawn("monitor", [
          `127.0.0.1:${freePort()}`,
          `127.0.0.1:${port}`,
          `CP-${i}`,
          "--location",
          location,
        ]);
        await delay(100);
      }
      const status = await central.exit(30_000);
      assert.equal(status.code, 1, "Central stops with a non-zero exit");
      assert.ok(
        central.output.some((l) =>
          /EV_Central: error: cannot write the database: .*(full|disk)/i.test(l)
        ),
        "it says why",
      );
      const confirmed = central.output.flatMap((l) => /^STATE (CP-\d+) /.exec(l)?.[1] ?? []);
      assert.ok(confirmed.length > 0, "some registrations went through before the disk filled");
      const db = new DatabaseSync(join(s.dir, "central.db"), { readOnly: true });
      try {
        const stored = new Set(
          db.prepare("SELECT cp_id FROM charging_points").all().map((r) => r.cp_id as string),
        );
        for (const cp of confirmed) assert.ok(stored.has(cp), `${cp} was shown, so it is stored`);
      } finally {
        db.close();
      }
    }),
});
