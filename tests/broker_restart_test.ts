/**
 * Issue 4: the Kafka broker stops mid-charge and comes back. No program crashes, all
 * reconnect, and the charge ends with a ticket that matches the database.
 *
 * Uses a private broker (not the shared test broker), since it is stopped on purpose.
 */
import assert from "node:assert/strict";
import { E2E, query, ticketOf, withPrivateBroker } from "./harness.ts";

Deno.test(
  "broker stopped mid-charge and restarted: everyone reconnects, one consistent ticket",
  E2E,
  () =>
    withPrivateBroker(async (s, broker) => {
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "12"] });
      const driver = await s.driver("D1", ["CP-01"], ["--silence-timeout", "60"]);
      await driver.waitFor(/^CHARGING CP-01/);

      await broker.stop();
      await net.waitKafka("unreachable", 20_000);
      await broker.start();

      // Central's consumer fetches again (a new one, if kafkajs gave the old one up).
      await net.waitKafka("reachable", 60_000);
      const line = await driver.waitFor(/^TICKET CP-01: (ENDED|ABORTED)/, 90_000);
      assert.equal((await driver.exit()).code, 0);
      const ticket = ticketOf(line);
      console.log(
        `after the outage: ${ticket.status} (${ticket.reason}), ${ticket.consumo_kwh} kWh`,
      );
      const rows = query(net.db, (db) => db.prepare("SELECT * FROM sessions").all());
      assert.equal(rows.length, 1);
      assert.equal(rows[0].status, ticket.status);
      assert.equal(rows[0].consumo_kwh, ticket.consumo_kwh);
      assert.equal(rows[0].importe_eur, ticket.importe_eur);
      for (const p of [net.central, net.cps["CP-01"].engine, net.cps["CP-01"].monitor]) {
        assert.equal((await p.stop()).code, 0, `${p.name} survived and exits cleanly`);
      }
    }),
);
