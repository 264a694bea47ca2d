/**
 * The demo's start: a broker that has just come up, and Central and the engines started at
 * the same instant. Everyone races to create the topics, and a topic another program has just
 * created has no partition leader for a moment: Central used to exit there ("This server does
 * not host this topic-partition"). Uses a private broker, since only a fresh one shows it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startBroker } from "../scripts/broker.ts";
import { E2E, freePort, Scenario } from "./harness.ts";

Deno.test(
  "fresh broker: Central and four engines started at the same instant all come up, then serve",
  E2E,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ev-test-fresh-" });
    const broker = await startBroker({ port: freePort(), dataDir: join(dir, "kafka") });
    const s = new Scenario(broker.bootstrap, dir);
    try {
      const centralPort = freePort();
      const enginePorts = [freePort(), freePort(), freePort(), freePort()];
      const central = s.spawn("central", [
        String(centralPort),
        s.bootstrap,
        join(dir, "central.db"),
        "--http",
        "off",
      ]);
      const engines = enginePorts.map((port, i) =>
        s.spawn("engine", [s.bootstrap, String(port), "--duration", "2"], `engine ${i + 1}`)
      );
      await central.waitFor(/listening for monitors/, 60_000);
      await Promise.all(engines.map((e) => e.waitFor(/health checks on port/, 60_000)));
      await s.monitor(enginePorts[0], centralPort, "CP-01");
      await central.waitFor(/STATE CP-01 ACTIVADO/);
      const driver = await s.driver("D-1", ["CP-01"]);
      assert.equal((await driver.exit(60_000)).code, 0);
      assert.ok(driver.output.some((l) => /^TICKET CP-01: ENDED \(COMPLETED\)/.test(l)));
      assert.ok(central.running && engines.every((e) => e.running), "nobody exited");
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
