/**
 * Issue 5: the driver, monitor and engine as the people at the charging points use them,
 * driven through stdin commands (no terminal) against the real broker and Central.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { amountFor, formatEur, formatKwh } from "../shared/protocol/money.ts";
import { E2E, query, ticketOf, withScenario } from "./harness.ts";

type Row = Record<string, unknown>;

Deno.test(
  "a driver's file with a busy and an unknown CP: one ticket saved, the summary counts right",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01", "CP-02"], { engineArgs: ["--duration", "3"] });
      // Someone at CP-02 starts a long test supply from its monitor, so CP-02 is busy.
      await net.cps["CP-02"].monitor.type("suministrar 60");
      await net.cps["CP-02"].monitor.waitFor(/Central: supply of 60 s authorized/);
      await net.central.waitFor(/STATE CP-02 SUMINISTRANDO\s+driver local-CP-02/);

      const driver = await s.driver("D1", ["CP-01", "CP-02", "CP-99"]);
      assert.equal((await driver.exit(60_000)).code, 0);
      const out = driver.output;
      assert.ok(out.some((l) => /^DENIED at CP-02: another driver is charging/.test(l)));
      assert.ok(out.some((l) => /^DENIED at CP-99: this charging point does not exist/.test(l)));
      assert.equal(out.filter((l) => l.startsWith("WAIT 4 s")).length, 2, "4 s between requests");
      const summary = out.find((l) => l.startsWith("SUMMARY"));
      assert.match(
        summary!,
        /^SUMMARY D1: 1 charged, 0 aborted, 2 denied, 0 not answered or given up; /,
      );

      const files = [...Deno.readDirSync(join(s.dir, "tickets"))].map((f) => f.name);
      assert.equal(files.length, 1, "one ticket file for the one charge");
      const ticket = JSON.parse(await Deno.readTextFile(join(s.dir, "tickets", files[0])));
      assert.equal(files[0], `${ticket.session_id}.json`);
      for (
        const field of [
          "driver_id",
          "cp_id",
          "started_at",
          "ended_at",
          "consumo_kwh",
          "importe_eur",
          "price_eur_kwh",
          "reason",
        ]
      ) {
        assert.ok(field in ticket, `ticket has ${field}`);
      }
      assert.equal(ticket.driver_id, "D1");
      assert.equal(ticket.cp_id, "CP-01");
      assert.equal(ticket.status, "ENDED");
      const row = query(net.db, (db) =>
        db.prepare("SELECT * FROM sessions WHERE session_id = ?").get(ticket.session_id)) as Row;
      assert.equal(row.consumo_kwh, ticket.consumo_kwh);
      assert.match(summary!, new RegExp(`${ticket.consumo_kwh.toFixed(3)} kWh`));
    }),
);

Deno.test(
  "unplugging at the engine ends the session ENDED with the energy delivered",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "120"] });
      const driver = await s.driver("D1", ["CP-01"]);
      await driver.waitFor(/^CHARGING CP-01: 0\.0[1-9]/);
      await net.cps["CP-01"].engine.type("unplug");
      const line = await driver.waitFor(/^TICKET CP-01: ENDED \(UNPLUGGED\)/);
      assert.equal((await driver.exit()).code, 0);
      const ticket = ticketOf(line);
      const row = query(net.db, (db) => db.prepare("SELECT * FROM sessions").get()) as Row;
      assert.equal(row.status, "ENDED");
      assert.equal(row.end_reason, "UNPLUGGED");
      assert.ok((row.consumo_kwh as number) > 0);
      assert.equal(row.consumo_kwh, ticket.consumo_kwh);
      await net.waitState("CP-01", "ACTIVADO");
    }),
);

Deno.test(
  "monitor: local PARAR and ACTIVAR show on Central and the engine; quit disconnects",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"]);
      const { monitor, engine } = net.cps["CP-01"];
      let mark = net.central.mark();
      await monitor.type("parar");
      await monitor.waitFor(/Central: PARAR done: CP-01 is PARADO/);
      await net.central.waitFor(/STATE CP-01 PARADO/, 5000, mark);
      await engine.waitFor(/STATUS CP-01 PARADO/);

      mark = net.central.mark();
      await monitor.type("activar");
      await monitor.waitFor(/Central: REANUDAR done: CP-01 is ACTIVADO/);
      await net.central.waitFor(/STATE CP-01 ACTIVADO/, 5000, mark);

      mark = net.central.mark();
      await monitor.type("quit");
      assert.equal((await monitor.exit()).code, 0);
      await net.central.waitFor(/STATE CP-01 DESCONECTADO/, 5000, mark);
    }),
);

Deno.test(
  "driver Ctrl+C mid-charge: it ends the charge, gets its ticket, and the CP is free",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "120"] });
      const driver = await s.driver("D1", ["CP-01"]);
      await driver.waitFor(/^CHARGING CP-01/);
      const engineMark = net.cps["CP-01"].engine.mark();
      driver.signal("SIGINT");
      assert.equal((await driver.exit()).code, 0);
      assert.ok(!driver.output.some((l) => /error|at .*\.ts:\d+/i.test(l)), "no trace back");
      assert.ok(
        driver.output.some((l) => /^TICKET CP-01: ABORTED \(DRIVER_CANCELLED\) SETTLED/.test(l)),
        "the driver gets the final ticket of what the engine delivered",
      );
      await net.central.waitFor(/session_aborted: DRIVER_CANCELLED/);
      await net.waitState("CP-01", "ACTIVADO");
      await net.cps["CP-01"].engine.waitFor(/STATUS CP-01 ACTIVADO/, 5000, engineMark);
      const row = query(net.db, (db) => db.prepare("SELECT * FROM sessions").get()) as Row;
      assert.equal(row.status, "ABORTED");
      assert.equal(row.end_reason, "DRIVER_CANCELLED");
      assert.equal(row.provisional, 0, "settled by the engine's end");

      // What the driver saved, what it sums up and what Central billed agree, to the 3 decimals.
      const files = [...Deno.readDirSync(join(s.dir, "tickets"))].map((f) => f.name);
      assert.equal(files.length, 1, "the ticket of the ended charge is saved");
      const ticket = JSON.parse(await Deno.readTextFile(join(s.dir, "tickets", files[0])));
      assert.equal(ticket.status, "ABORTED");
      assert.ok(ticket.consumo_kwh > 0, "some energy was delivered before Ctrl+C");
      assert.equal(ticket.importe_eur, amountFor(ticket.consumo_kwh, ticket.price_eur_kwh));
      assert.equal(row.consumo_kwh, ticket.consumo_kwh);
      assert.equal(row.importe_eur, ticket.importe_eur);
      const summary = driver.output.find((l) => l.startsWith("SUMMARY"));
      assert.equal(
        summary,
        "SUMMARY D1: 0 charged, 1 aborted, 0 denied, 0 not answered or given up; " +
          `${formatKwh(ticket.consumo_kwh)} kWh, ${formatEur(ticket.importe_eur)} €`,
      );
    }),
);

Deno.test(
  "driver without a requests file asks at a prompt; --cp asks for one charge",
  E2E,
  () =>
    withScenario(async (s) => {
      await s.network(["CP-01"], { engineArgs: ["--duration", "1"] });
      const prompted = s.spawn("driver", [s.bootstrap, "D1"], "driver (prompt)");
      await prompted.waitFor(/CP id to charge at/);
      await prompted.type("CP-01");
      await prompted.waitFor(/^TICKET CP-01: ENDED/);
      await prompted.type("");
      assert.equal((await prompted.exit()).code, 0);
      assert.ok(prompted.output.some((l) => /SUMMARY D1: 1 charged/.test(l)));

      const one = s.spawn("driver", [s.bootstrap, "D2", "--cp", "CP-01"], "driver --cp");
      assert.equal((await one.exit()).code, 0);
      assert.ok(one.output.some((l) => /SUMMARY D2: 1 charged/.test(l)));
    }),
);
