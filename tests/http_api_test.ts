/**
 * Issue 3: Central's HTTP API against a running Central.
 */
import assert from "node:assert/strict";
import { api, E2E, withScenario } from "./harness.ts";

type Row = Record<string, unknown>;

Deno.test(
  "HTTP API: CPs, sessions and events with filters and pages; clear 4xx errors",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01", "CP-02"], { engineArgs: ["--duration", "1"] });
      const before = Date.now();
      const drivers = await Promise.all([s.driver("D1", ["CP-01"]), s.driver("D2", ["CP-02"])]);
      for (const d of drivers) assert.equal((await d.exit()).code, 0);

      const cps = await api(`${net.api}/cps`);
      assert.equal(cps.status, 200);
      assert.deepEqual(
        (cps.body.items as Row[]).map((c) => [c.cp_id, c.state, c.location, c.session]),
        [["CP-01", "ACTIVADO", "Unknown location", null], [
          "CP-02",
          "ACTIVADO",
          "Unknown location",
          null,
        ]],
      );

      const all = await api(`${net.api}/sessions`);
      assert.equal(all.body.total, 2);
      const one = await api(`${net.api}/sessions?cp=CP-02&status=ENDED`);
      assert.deepEqual((one.body.items as Row[]).map((r) => r.driver_id), ["D2"]);
      const page = await api(`${net.api}/sessions?limit=1&offset=1`);
      assert.equal((page.body.items as Row[]).length, 1);
      assert.equal(page.body.total, 2);
      const later = await api(`${net.api}/sessions?from=${Date.now() + 60_000}`);
      assert.equal(later.body.total, 0);
      const iso = await api(`${net.api}/sessions?from=${new Date(before - 1000).toISOString()}`);
      assert.equal(iso.body.total, 2);

      const events = await api(`${net.api}/events?cp=CP-01&limit=2`);
      assert.equal((events.body.items as Row[]).length, 2);
      assert.ok((events.body.total as number) >= 3);
      const ids = (events.body.items as Row[]).map((e) => e.id as number);
      assert.ok(ids[0] > ids[1], "newest first");

      const errors: [string, unknown, number, RegExp][] = [
        ["/sessions?status=DONE", undefined, 400, /status must be RUNNING, ENDED or ABORTED/],
        ["/sessions?limit=-1", undefined, 400, /limit must be a whole number/],
        ["/sessions?limit=0", undefined, 400, /limit must be a whole number from 1 to 1000/],
        ["/events?from=yesterday", undefined, 400, /from must be a time/],
        ["/events?color=red", undefined, 400, /unknown filter "color"/],
        ["/nope", undefined, 404, /no route \/nope/],
        ["/command", "{not json", 400, /body must be JSON/],
        [
          "/command",
          { command: "EXPLODE", cp_id: "CP-01" },
          400,
          /command must be "PARAR" or "REANUDAR"/,
        ],
        ["/command", { command: "PARAR", cp_id: "CP-99" }, 404, /unknown CP "CP-99"/],
        ["/command", { command: "PARAR" }, 400, /cp_id must be/],
        ["/sessions", {}, 405, /POST is not allowed on \/sessions/],
      ];
      for (const [path, body, status, re] of errors) {
        const r = await api(`${net.api}${path}`, body);
        assert.equal(r.status, status, path);
        assert.match(String(r.body.error), re, path);
      }
      const noToken = await api(
        `${net.api}/command`,
        { command: "PARAR", cp_id: "all" },
        "",
      );
      assert.equal(noToken.status, 401);
      assert.match(String(noToken.body.error), /valid operator token is needed/);
      const badToken = await api(`${net.api}/command`, { command: "PARAR", cp_id: "all" }, "nope");
      assert.equal(badToken.status, 401);
      const get = await fetch(`${net.api}/command`);
      assert.equal(get.status, 405);
      await get.body?.cancel();

      const ok = await api(`${net.api}/command`, { command: "PARAR", cp_id: "all" });
      assert.equal(ok.status, 200);
      await net.central.waitFor(/STATE CP-01 PARADO/);
      await net.central.waitFor(/STATE CP-02 PARADO/);
      const stopped = await api(`${net.api}/cps`);
      assert.deepEqual((stopped.body.items as Row[]).map((c) => c.state), ["PARADO", "PARADO"]);
    }),
);
