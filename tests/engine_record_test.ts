/**
 * Issue 15, the engine's side of I1 and I2: its record of what it delivered survives a
 * kill -9, the end of the supply that was cut short is reported from it (ENGINE_RESTART, the
 * last meter reading) and sent again until Central acknowledges it, and orders sent while it
 * was down are acted on once it is back (its consumer group is its CP's).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROGRAMS } from "../scripts/programs.ts";
import {
  E2E,
  eventually,
  freePort,
  Proc,
  query,
  ROOT,
  type Scenario,
  withScenario,
} from "./harness.ts";
import { parseTelemetryMessage, stamp, type SupplyEnd } from "../shared/protocol/messages.ts";
import { type EndLine, type MeterLine, parseLine } from "../cp_engine/meter_record.ts";

/** The engine, allowed to write its record (in the scenario's folder, its working directory). */
async function engine(s: Scenario, port: number, extra: string[], name: string): Promise<Proc> {
  const flags = [...PROGRAMS.engine.flags, "--allow-read", "--allow-write"];
  const entry = join(ROOT, PROGRAMS.engine.entry);
  const p = new Proc(
    name,
    ["run", "--quiet", ...flags, entry, s.bootstrap, String(port), ...extra],
    s.env,
    s.dir,
  );
  s.procs.push(p);
  await p.waitFor(/health checks on port/);
  return p;
}

/** Every end of supply on the scenario's telemetry_topic since it began, as it arrives. */
async function readTelemetry(s: Scenario): Promise<{ ends: SupplyEnd[]; stop(): Promise<void> }> {
  const watched = await s.watch("telemetry_topic");
  return {
    get ends() {
      return watched.seen.map(parseTelemetryMessage).filter((m): m is SupplyEnd =>
        m.type === "SUPPLY_END"
      );
    },
    stop: watched.stop,
  };
}

/** The record file's lines. */
async function recordOf(path: string): Promise<(ReturnType<typeof parseLine>)[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((l) => l.trim() !== "").map(parseLine);
}

Deno.test(
  "engine killed -9 mid-supply: restarted, it reports its record's last meter (ENGINE_RESTART), " +
    "again until acked, and acts on the orders sent while it was down",
  E2E,
  () =>
    withScenario(async (s) => {
      const centralPort = freePort();
      const db = join(s.dir, "central.db");
      const central = await s.central(centralPort, db, ["--http", "off"]);
      const enginePort = freePort();
      const args = ["--duration", "120"];
      let e = await engine(s, enginePort, args, "engine CP-01");
      await s.monitor(enginePort, centralPort, "CP-01");
      await central.waitFor(/STATE CP-01 ACTIVADO/);
      await e.waitFor(/taking orders for CP-01/, 15_000);
      const telemetry = await readTelemetry(s);
      try {
        await s.driver("D1", ["CP-01"]);
        await e.waitFor(/STATUS CP-01 SUMINISTRANDO driver D1 0\.0[3-9]\d kWh/, 20_000);

        // Both killed: nobody acknowledges the engine's end until Central is back.
        e.signal("SIGKILL");
        central.signal("SIGKILL");
        await Promise.all([e.exit(), central.exit()]);
        const record = join(s.dir, `ev-engine-${enginePort}.jsonl`);
        const lines = await recordOf(record);
        const start = lines.find((l) => l.kind === "start");
        assert.ok(start, "the record has the supply's start");
        const last = lines.filter((l): l is MeterLine => l.kind === "meter").at(-1)!;
        assert.ok(last.consumo_kwh >= 0.03, `the record has the meter: ${last.consumo_kwh} kWh`);
        assert.ok(!lines.some((l) => l.kind === "end"), "killed before the end");

        // Central's order while the engine is down, for a session it never had.
        await s.produceRaw("control_topic", [{
          key: "CP-01",
          value: JSON.stringify(stamp({
            type: "STOP_SUPPLY",
            cp_id: "CP-01",
            session_id: "while-down",
            reason: "DRIVER_CANCELLED",
          })),
        }]);

        const restartedAt = Date.now();
        e = await engine(s, enginePort, args, "engine CP-01 (restarted)");
        const ends = (session: string) => telemetry.ends.filter((m) => m.session_id === session);
        await eventually(
          "the recorded end sent, and sent again while nobody acknowledges it",
          () => ends(start.session_id).length >= 2,
          20_000,
        );
        for (const end of ends(start.session_id)) {
          assert.equal(end.reason, "ENGINE_RESTART");
          assert.equal(end.consumo_kwh, last.consumo_kwh, "the record's last meter reading");
          assert.equal(end.driver_id, "D1");
          assert.equal(end.ended_at, last.at);
        }
        await eventually(
          "the NOT_SUPPLIED end of the order sent while it was down",
          () => ends("while-down").length > 0,
          30_000,
        );
        assert.equal(ends("while-down")[0].reason, "NOT_SUPPLIED");
        assert.equal(ends("while-down")[0].consumo_kwh, 0);
        console.log(
          `order sent while down acted on ${Date.now() - restartedAt} ms after the restart`,
        );

        // Central back: it acknowledges both ends, and the engine records that.
        await s.central(centralPort, db, ["--http", "off"]);
        const acked = async (session: string) =>
          (await recordOf(record)).some((l) => l.kind === "acked" && l.session_id === session);
        await eventually(
          "both ends acknowledged in the record",
          async () => await acked(start.session_id) && await acked("while-down"),
          30_000,
        );
        const endLines = (await recordOf(record)).filter((l): l is EndLine => l.kind === "end");
        assert.deepEqual(endLines.map((l) => [l.session_id, l.reason]), [
          [start.session_id, "ENGINE_RESTART"],
          ["while-down", "NOT_SUPPLIED"],
        ]);
        // Settling is Central's part (I1): the row takes the engine's figures.
        const row = await eventually("the session row settled", () =>
          query(db, (d) =>
            d.prepare(
              "SELECT * FROM sessions WHERE session_id = ? AND provisional = 0 AND status <> 'RUNNING'",
            )
              .get(start.session_id)), 15_000);
        assert.equal(row.consumo_kwh, last.consumo_kwh);
        assert.equal(row.end_reason, "ENGINE_RESTART");
      } finally {
        await telemetry.stop();
      }
    }),
);
