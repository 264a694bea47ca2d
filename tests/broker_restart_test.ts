/**
 * Issue 4: the Kafka broker stops mid-charge and comes back. No program crashes, all
 * reconnect, and the charge ends with a ticket that matches the database.
 *
 * Uses a private broker (not the shared test broker), since it is stopped on purpose.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startBroker } from "../scripts/broker.ts";
import { E2E, freePort, query, Scenario, ticketOf } from "./harness.ts";

Deno.test(
  "broker stopped mid-charge and restarted: everyone reconnects, one consistent ticket",
  E2E,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ev-test-restart-" });
    const port = freePort();
    const dataDir = join(dir, "kafka");
    let broker = await startBroker({ port, dataDir });
    const s = new Scenario(broker.bootstrap, dir);
    try {
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "12"] });
      const driver = await s.driver("D1", ["CP-01"], ["--silence-timeout", "60"]);
      await driver.waitFor(/^CHARGING CP-01/);

      await broker.stop();
      await net.central.waitFor(/Kafka unreachable: the session watchdog waits/, 20_000);
      broker = await startBroker({ port, dataDir });

      // Central's consumer fetches again (a new one, if kafkajs gave the old one up).
      await net.central.waitFor(/Kafka reachable again/, 60_000);
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
    } catch (e) {
      console.error(s.report());
      throw e;
    } finally {
      await s.stopAll();
      await broker.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
