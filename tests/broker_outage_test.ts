/**
 * Issue 15, reproduction 2 (the drivers' half): the broker is killed -9 during three charges
 * and comes back on the same data after longer than the drivers' silence timeout. No driver
 * gives up while it cannot reach the broker; each one says so on its status line, then shows
 * and saves the ticket of its session, and once settled the tickets equal the sessions rows.
 *
 * Uses a private broker (not the shared test broker), since it is killed on purpose.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { E2E, eventually, query, withPrivateBroker } from "./harness.ts";

const CPS = ["CP-01", "CP-02", "CP-03"];
/** Shorter than the outage: today's driver gives a charge up after this much silence. */
const SILENCE_S = 15;
/** The outage: longer than the silence timeout. */
const OUTAGE_MS = 25_000;

interface SavedTicket {
  session_id: string;
  status: string;
  reason: string;
  consumo_kwh: number;
  importe_eur: number;
  provisional?: boolean;
}

Deno.test(
  "broker killed -9 for 25 s during three charges: no driver gives up, each gets its ticket",
  E2E,
  () =>
    withPrivateBroker(async (s, broker) => {
      const net = await s.network(CPS, { engineArgs: ["--duration", "8"] });
      const drivers = await Promise.all(
        CPS.map((cp, i) => s.driver(`D${i + 1}`, [cp], ["--silence-timeout", String(SILENCE_S)])),
      );
      // About 3 s into every charge.
      await Promise.all(
        drivers.map((d, i) => d.waitFor(new RegExp(`^CHARGING ${CPS[i]}: .* 00:0[3-9]`), 60_000)),
      );

      await broker.kill();
      await delay(OUTAGE_MS); // the fault itself, not a wait for an event
      for (const d of drivers) {
        assert.ok(!d.output.some((l) => /LOST|giving up/.test(l)), `${d.name} gave up`);
        assert.ok(
          d.output.some((l) => /broker unreachable/i.test(l)),
          `${d.name} said the broker was unreachable`,
        );
      }
      await broker.start();

      const shown = await Promise.all(
        drivers.map((d, i) => d.waitFor(new RegExp(`^TICKET ${CPS[i]}: `), 90_000)),
      );
      for (const d of drivers) {
        assert.equal((await d.exit(90_000)).code, 0, `${d.name} ends normally`);
        assert.ok(!d.output.some((l) => /LOST|giving up/.test(l)), `${d.name} gave up`);
      }
      console.log(`after the outage:\n  ${shown.map((l) => l.split(" {")[0]).join("\n  ")}`);

      // Each driver saved the ticket of its session, and it is the session's row once settled.
      const ticketsDir = join(s.dir, "tickets");
      await eventually("the tickets to equal the settled sessions rows", async () => {
        const rows = query(net.db, (db) => db.prepare("SELECT * FROM sessions").all());
        if (rows.length !== CPS.length) return false;
        for (const row of rows) {
          if (row.status === "RUNNING" || row.provisional === 1) return false;
          const file = join(ticketsDir, `${row.session_id}.json`);
          const t = JSON.parse(await Deno.readTextFile(file)) as SavedTicket;
          if (t.provisional) return false;
          assert.equal(t.status, row.status, `${file} status`);
          assert.equal(t.consumo_kwh, row.consumo_kwh, `${file} kWh`);
          assert.equal(t.importe_eur, row.importe_eur, `${file} €`);
        }
        return true;
      }, 60_000);
    }),
);
