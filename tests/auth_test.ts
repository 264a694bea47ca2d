/**
 * Issue 7: only real CPs get in. With --auth, a monitor must name an enrolled CP and present
 * its secret; secrets are stored hashed and never logged.
 */
import assert from "node:assert/strict";
import { api, E2E, freePort, query, withScenario } from "./harness.ts";

const SECRET = "correct-horse-battery";

Deno.test(
  "with --auth: enrolled CP with its secret gets in; unknown id or wrong secret is refused",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network([], { centralArgs: ["--auth"] });
      const enrol = await api(`${net.api}/cps`, { cp_id: "CP-01", secret: SECRET });
      assert.equal(enrol.status, 201);
      assert.equal((await api(`${net.api}/cps`, { cp_id: "CP-01", secret: "short" })).status, 400);
      assert.equal(
        (await api(`${net.api}/cps`, { cp_id: "CP-09", secret: SECRET }, "")).status,
        401,
      );
      await net.central.type("enrol CP-02 another-good-secret");
      await net.waitEvent("enrolled", { cp: "CP-02" });

      const enginePort = freePort();
      await s.engine(enginePort);
      // An engine serves the first CP that checks it: intruders get an engine port of their own.
      const monitor = (cp: string, secret?: string, port = freePort()) =>
        s.spawn(
          "monitor",
          [
            `127.0.0.1:${port}`,
            `127.0.0.1:${net.centralPort}`,
            cp,
            ...(secret ? ["--secret", secret] : []),
          ],
          `monitor ${cp}`,
        );

      const stranger = monitor("CP-77", SECRET);
      assert.equal((await stranger.exit()).code, 1);
      assert.ok(
        stranger.output.some((l) => /Central refused CP-77: CP CP-77 is not enrolled/.test(l)),
      );
      const thief = monitor("CP-01", "not-the-secret");
      assert.equal((await thief.exit()).code, 1);
      assert.ok(
        thief.output.some((l) => /Central refused CP-01: wrong secret for CP CP-01/.test(l)),
      );
      const silent = monitor("CP-01");
      assert.equal((await silent.exit()).code, 1, "no secret at all is refused too");

      const real = monitor("CP-01", SECRET, enginePort);
      await real.waitFor(/linked to Central/);
      await net.waitState("CP-01", "ACTIVADO");
      const copycat = monitor("CP-01", SECRET);
      assert.equal((await copycat.exit()).code, 1, "a second monitor cannot take over");
      assert.ok(copycat.output.some((l) => /already connected/.test(l)));

      const refusals = query(
        net.db,
        (d) =>
          d.prepare("SELECT detail FROM events WHERE kind = 'register_refused' ORDER BY id").all(),
      ).map((r) => r.detail as string);
      // Four refusals from one address in a minute: the first is a row, the others a count
      // when the minute ends (issue 16: a flood of refusals must not become a flood of rows).
      assert.equal(refusals.length, 1);
      assert.match(refusals[0], /CP-77 is not enrolled \(from 127\.0\.0\.1\)/);

      const hash = query(
        net.db,
        (d) => d.prepare("SELECT secret_hash FROM charging_points WHERE cp_id = 'CP-01'").get(),
      )!.secret_hash as string;
      assert.match(hash, /^pbkdf2\$100000\$/);
      for (const p of s.procs.filter((p) => p.name === "central")) {
        const text = p.output.join("\n");
        assert.ok(
          !text.includes(SECRET) && !text.includes("another-good-secret"),
          "no secret in logs",
        );
      }
    }),
);
