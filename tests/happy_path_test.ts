/**
 * Issue 2: one charge end to end through the four real programs and a real broker.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { amountFor } from "../shared/protocol/money.ts";
import { E2E, eventually, freePort, query, ticketOf, withScenario } from "./harness.ts";

Deno.test(
  "a driver charges at a CP end to end: authorization, telemetry, ticket, DB",
  E2E,
  () =>
    withScenario(async (s) => {
      const centralPort = freePort();
      const enginePort = freePort();
      const db = join(s.dir, "central.db");
      const central = await s.central(centralPort, db);
      const engine = await s.engine(enginePort, ["--duration", "4"]);
      const monitor = await s.monitor(enginePort, centralPort, "CP-01", [
        "--location",
        "C/Italia 5",
        "--price",
        "0.40",
      ]);
      await central.waitFor(/STATE CP-01 ACTIVADO/);

      await Deno.writeTextFile(join(s.dir, "requests.txt"), "# my trip\nCP-01\n");
      const driver = s.spawn("driver", [s.bootstrap, "D-23", "--file", "requests.txt"]);
      const status = await driver.exit(60_000);
      assert.equal(status.code, 0, "driver exits 0 at the end of its file");

      const out = driver.output;
      assert.ok(out.some((l) => /^AUTHORIZED at CP-01/.test(l)), "driver sees AUTHORIZED");
      const readings = out.filter((l) => /^CHARGING CP-01: [\d.]+ kWh/.test(l));
      assert.ok(readings.length >= 3, `at least 3 telemetry updates, got ${readings.length}`);
      const ticketLine = out.find((l) => l.startsWith("TICKET CP-01"));
      assert.ok(ticketLine, "driver gets a final ticket");
      const ticket = ticketOf(ticketLine);
      assert.equal(ticket.status, "ENDED");
      assert.equal(ticket.reason, "COMPLETED");
      assert.equal(ticket.price_eur_kwh, 0.4);
      assert.ok(ticket.consumo_kwh > 0);
      assert.equal(
        ticket.importe_eur,
        amountFor(ticket.consumo_kwh, ticket.price_eur_kwh),
        "€ = kWh × price, by the money rule",
      );
      for (const key of ["consumo_kwh", "importe_eur"]) {
        assert.match(
          ticketLine,
          new RegExp(`"${key}":\\d+(\\.\\d{1,3})?[,}]`),
          `${key}: 3 decimals`,
        );
      }

      const row = query(
        db,
        (d) => d.prepare("SELECT * FROM sessions WHERE session_id = ?").get(ticket.session_id),
      ) as Record<string, unknown>;
      assert.equal(row.status, "ENDED");
      assert.equal(row.driver_id, "D-23");
      assert.equal(row.cp_id, "CP-01");
      assert.equal(row.consumo_kwh, ticket.consumo_kwh);
      assert.equal(row.importe_eur, ticket.importe_eur);
      assert.equal(row.end_reason, "COMPLETED");

      const kinds = query(
        db,
        (d) => d.prepare("SELECT kind FROM events WHERE cp_id = 'CP-01' ORDER BY id").all(),
      ).map((r) => r.kind);
      for (const k of ["registered", "authorized", "session_ended"]) {
        assert.ok(kinds.includes(k), `event ${k} recorded (got ${kinds.join(", ")})`);
      }
      const cp = query(db, (d) => d.prepare("SELECT * FROM charging_points").get()) as Record<
        string,
        unknown
      >;
      assert.equal(cp.location, "C/Italia 5");
      await central.waitFor(
        /STATE CP-01 ACTIVADO/,
        5000,
        central.output.findLastIndex((l) => /SUMINISTRANDO/.test(l)),
      );

      for (const p of [monitor, engine, central]) {
        assert.equal((await p.stop()).code, 0, `${p.name} exits cleanly on Ctrl+C`);
      }
    }),
);

Deno.test(
  "a request in exactly the spec's shape, from another Kafka client, is served",
  E2E,
  () =>
    withScenario(async (s) => {
      const { central, db } = await s.network(["CP-07"], { engineArgs: ["--duration", "2"] });

      await s.produceRaw(
        "requests_topic",
        [{ value: JSON.stringify({ driver_id: "KC-1", cp_id_solicitado: "CP-07" }) }],
        "other-client",
      );
      await central.waitFor(/STATE CP-07 SUMINISTRANDO\s+driver KC-1/);
      const row = await eventually("the session to end", () =>
        query(db, (d) =>
          d.prepare(
            "SELECT status, consumo_kwh FROM sessions WHERE driver_id = 'KC-1' AND status != 'RUNNING'",
          )
            .get()));
      assert.equal(row.status, "ENDED");
      assert.ok((row.consumo_kwh as number) > 0);
    }),
);

Deno.test(
  "an engine started on a fresh broker before Central ever ran comes up, then serves a charge",
  E2E,
  () =>
    withScenario(async (s) => {
      // PC3 may well start first: no topic exists yet, and the engine must not give up.
      const enginePort = freePort();
      const engine = await s.engine(enginePort, ["--duration", "3"]);
      const centralPort = freePort();
      const central = await s.central(centralPort, join(s.dir, "central.db"));
      await s.monitor(enginePort, centralPort, "CP-01");
      await central.waitFor(/STATE CP-01 ACTIVADO/);
      const driver = await s.driver("D-1", ["CP-01"]);
      assert.equal((await driver.exit(60_000)).code, 0);
      assert.ok(driver.output.some((l) => /^TICKET CP-01: ENDED \(COMPLETED\)/.test(l)));
      assert.ok(engine.running, "the engine is still running");
    }),
);

Deno.test(
  "two networks on one broker (different topic prefixes) run side by side, each Central serving its own",
  E2E,
  () =>
    withScenario((a) =>
      withScenario(async (b) => {
        const [netA, netB] = await Promise.all([
          a.network(["CP-01"], { engineArgs: ["--duration", "2"] }),
          b.network(["CP-01"], { engineArgs: ["--duration", "2"] }),
        ]);
        const [da, db] = await Promise.all([a.driver("DA", ["CP-01"]), b.driver("DB", ["CP-01"])]);
        assert.equal((await da.exit(60_000)).code, 0);
        assert.equal((await db.exit(60_000)).code, 0);
        for (const [driver, net, id] of [[da, netA, "DA"], [db, netB, "DB"]] as const) {
          assert.ok(driver.output.some((l) => /^TICKET CP-01: ENDED \(COMPLETED\)/.test(l)));
          const rows = query(net.db, (d) =>
            d.prepare("SELECT driver_id, status FROM sessions").all());
          assert.deepEqual(rows.map((r) => ({ ...r })), [{ driver_id: id, status: "ENDED" }]);
        }
      })
    ),
);
