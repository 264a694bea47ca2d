/**
 * The demo's start: a broker that has just come up, and Central and the engines started at
 * the same instant. Everyone races to create the topics, and a topic another program has just
 * created has no partition leader for a moment: Central used to exit there ("This server does
 * not host this topic-partition"). Uses a private broker, since only a fresh one shows it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { E2E, freePort, withPrivateBroker } from "./harness.ts";

Deno.test(
  "fresh broker: Central and four engines started at the same instant all come up, then serve",
  E2E,
  () =>
    withPrivateBroker(async (s) => {
      const centralPort = freePort();
      const enginePorts = [freePort(), freePort(), freePort(), freePort()];
      const central = s.spawn("central", [
        String(centralPort),
        s.bootstrap,
        join(s.dir, "central.db"),
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
    }),
);
