/**
 * Issue 16: the monitor ↔ Central link over TLS, with the certificates scripts/tls-certs.sh
 * makes. A monitor that trusts the CA registers; one that talks plain TCP, or trusts another
 * CA, never does, and says why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { E2E, freePort, ROOT, withScenario } from "./harness.ts";

async function makeCerts(dir: string, ...names: string[]): Promise<void> {
  const out = await new Deno.Command("bash", {
    args: [join(ROOT, "scripts", "tls-certs.sh"), dir, ...names],
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

Deno.test(
  "TLS: a monitor that trusts the CA registers; plain TCP and another CA do not",
  E2E,
  () =>
    withScenario(async (s) => {
      const certs = join(s.dir, "certs");
      const other = join(s.dir, "other-ca");
      await makeCerts(certs, "127.0.0.1", "localhost");
      await makeCerts(other, "127.0.0.1");
      const net = await s.network([], {
        centralArgs: [
          "--tls-cert",
          join(certs, "central.pem"),
          "--tls-key",
          join(certs, "central-key.pem"),
        ],
      });
      assert.ok(
        net.central.output.some((l) => /listening for monitors on port \d+ \(.*TLS\)/.test(l)),
      );

      const enginePort = freePort();
      await s.engine(enginePort);
      await s.monitor(enginePort, net.centralPort, "CP-01", ["--tls-ca", join(certs, "ca.pem")]);
      await net.waitState("CP-01", "ACTIVADO");

      const central = `127.0.0.1:${net.centralPort}`;
      const plain = s.spawn("monitor", [`127.0.0.1:${freePort()}`, central, "CP-02"], "plain");
      await plain.waitFor(/the peer speaks TLS: see --tls-ca, --tls-cert\); retrying/);
      const stranger = s.spawn(
        "monitor",
        [`127.0.0.1:${freePort()}`, central, "CP-03", "--tls-ca", join(other, "ca.pem")],
        "stranger",
      );
      await stranger.waitFor(/TLS: invalid peer certificate: \w+; retrying/);
      assert.ok(!plain.output.some((l) => /linked to Central/.test(l)));
      assert.ok(!stranger.output.some((l) => /linked to Central/.test(l)));
      const cps = await (await fetch(`${net.api}/cps`)).json() as { items: { cp_id: string }[] };
      assert.deepEqual(cps.items.map((c) => c.cp_id), ["CP-01"]);

      const bad = s.spawn("central", [
        String(freePort()),
        s.bootstrap,
        join(s.dir, "x.db"),
        "--tls-cert",
        join(certs, "central.pem"),
      ]);
      assert.equal((await bad.exit()).code, 2);
      assert.ok(bad.output.some((l) => /--tls-cert and --tls-key go together/.test(l)));
    }),
);
