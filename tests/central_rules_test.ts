/**
 * Issue 3: Central's business rules, against the real programs and broker.
 */
import assert from "node:assert/strict";
import { api, E2E, eventually, query, ticketOf, withScenario } from "./harness.ts";

type Row = Record<string, unknown>;

Deno.test(
  "requests are authorized only at an ACTIVADO, free CP; every denial says why in plain words",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-A", "CP-B", "CP-C", "CP-D"], {
        engineArgs: ["--duration", "120"],
      });
      const { central } = net;
      const d1 = await s.driver("D1", ["CP-A"]);
      await d1.waitFor(/^AUTHORIZED at CP-A/);
      await central.waitFor(/STATE CP-A SUMINISTRANDO\s+driver D1/);

      await net.cps["CP-B"].engine.type("ko");
      await central.waitFor(/STATE CP-B AVERIADO/);
      await central.type("parar CP-C");
      await central.waitFor(/STATE CP-C PARADO/);
      await net.cps["CP-D"].monitor.stop();
      await central.waitFor(/STATE CP-D DESCONECTADO/);

      const cases: [string, string, RegExp][] = [
        ["D2", "CP-A", /another driver is charging at this point/],
        ["D3", "CP-B", /broken down/],
        ["D4", "CP-C", /out of order \(stopped by the operator\)/],
        ["D5", "CP-D", /not connected to the central/],
        ["D6", "CP-Z", /this charging point does not exist/],
      ];
      const drivers = await Promise.all(cases.map(([d, cp]) => s.driver(d, [cp])));
      for (const [i, [d, cp, words]] of cases.entries()) {
        assert.equal((await drivers[i].exit()).code, 0, `${d} finishes its file`);
        const line = drivers[i].output.find((l) => l.startsWith(`DENIED at ${cp}`));
        assert.ok(line, `${d} is denied at ${cp}`);
        assert.match(line, words);
      }
      // D1, charging at CP-A, asks for CP-B too. Sent as a raw request: a second driver process
      // with D1's id would share D1's consumer group (one per driver id) and its answers.
      await s.produceRaw("requests_topic", [{
        key: "D1",
        value: JSON.stringify({ driver_id: "D1", cp_id_solicitado: "CP-B" }),
      }]);
      await net.waitEvent("denied", { detail: /^driver D1 asked for CP-B: DRIVER_BUSY$/ });
      const denied = query(net.db, (db) =>
        db.prepare("SELECT count(*) AS n FROM events WHERE kind = 'denied'").get()) as Row;
      assert.equal(denied.n, cases.length + 1);
      const sessions = query(net.db, (db) =>
        db.prepare("SELECT cp_id, status FROM sessions").all());
      assert.deepEqual(sessions.map((r) => [r.cp_id, r.status]), [["CP-A", "RUNNING"]]);

      // PARAR from the API ends the running charge: ABORTED at once (provisional: Central's
      // figures), then settled by the engine's own end with what it delivered.
      await d1.waitFor(/^CHARGING CP-A/);
      const res = await api(`${net.api}/command`, { command: "PARAR", cp_id: "CP-A" });
      assert.equal(res.status, 200);
      await d1.waitFor(/^TICKET CP-A: ABORTED \(PARAR\) PROVISIONAL/);
      const ticketLine = await d1.waitFor(/^TICKET CP-A: ABORTED \(PARAR\) SETTLED/);
      await central.waitFor(/STATE CP-A PARADO/);
      await net.cps["CP-A"].engine.waitFor(/STATUS CP-A PARADO/);
      const ticket = ticketOf(ticketLine);
      assert.equal(ticket.provisional, undefined, "the final ticket");
      const row = query(net.db, (db) =>
        db.prepare("SELECT * FROM sessions WHERE session_id = ?").get(ticket.session_id)) as Row;
      assert.equal(row.status, "ABORTED");
      assert.equal(row.end_reason, "PARAR");
      assert.ok(ticket.consumo_kwh > 0, "what was delivered is billed");
      assert.equal(row.consumo_kwh, ticket.consumo_kwh);
      assert.equal(row.importe_eur, ticket.importe_eur);
      assert.equal(row.ended_at, ticket.ended_at);
      assert.equal((await d1.exit()).code, 0);

      // REANUDAR all from the keyboard brings both stopped CPs back.
      const mark = central.mark();
      const engineMark = net.cps["CP-A"].engine.mark();
      await central.type("reanudar all");
      await central.waitFor(/STATE CP-A ACTIVADO/, 10_000, mark);
      await central.waitFor(/STATE CP-C ACTIVADO/, 10_000, mark);
      await net.cps["CP-A"].engine.waitFor(/STATUS CP-A ACTIVADO/, 10_000, engineMark);
      const kinds = query(net.db, (db) =>
        db.prepare("SELECT kind FROM events WHERE cp_id = 'CP-A' ORDER BY id").all()).map((r) =>
          r.kind
        );
      assert.deepEqual(kinds, [
        "registered",
        "authorized",
        "denied", // D2's request, denied as BUSY
        "parar",
        "session_aborted",
        "session_settled",
        "reanudar",
      ]);
    }),
);

Deno.test(
  "registration: a second monitor for a connected id is refused; a known CP is welcomed back",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"]);
      const intruder = s.spawn("monitor", [
        `127.0.0.1:${net.cps["CP-01"].enginePort}`,
        `127.0.0.1:${net.centralPort}`,
        "CP-01",
      ], "intruder");
      const status = await intruder.exit();
      assert.equal(status.code, 1);
      assert.ok(
        intruder.output.some((l) => /refused CP-01: CP CP-01 is already connected/.test(l)),
      );
      assert.ok(
        !net.central.output.some((l) => /STATE CP-01 DESCONECTADO/.test(l)),
        "the first monitor keeps its link",
      );

      await net.cps["CP-01"].monitor.stop();
      await net.central.waitFor(/STATE CP-01 DESCONECTADO/);
      const again = await s.monitor(net.cps["CP-01"].enginePort, net.centralPort, "CP-01", [
        "--location",
        "Plaza Mayor 1",
        "--price",
        "0.5",
      ]);
      await again.waitFor(/Welcome back, CP-01/);
      const cp = query(net.db, (db) => db.prepare("SELECT * FROM charging_points").get()) as Row;
      assert.equal(cp.location, "Plaza Mayor 1");
      assert.equal(cp.price_eur_kwh, 0.5);
      const kinds = query(net.db, (db) => db.prepare("SELECT kind FROM events ORDER BY id").all())
        .map((r) => r.kind);
      assert.deepEqual(kinds, ["registered", "register_refused", "disconnected", "reconnected"]);
    }),
);

Deno.test(
  "a restarted Central shows every known CP DESCONECTADO until its monitor is back, and the history",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01", "CP-02"], { engineArgs: ["--duration", "2"] });
      const d1 = await s.driver("D1", ["CP-01"]);
      assert.equal((await d1.exit()).code, 0);
      await net.central.type("parar CP-02");
      await net.central.waitFor(/STATE CP-02 PARADO/);
      assert.equal((await net.central.stop()).code, 0);

      const central2 = s.spawn("central", [
        String(net.centralPort),
        s.bootstrap,
        net.db,
        "--http",
        String(net.httpPort),
      ], "central (restarted)");
      await central2.waitFor(/listening for monitors/);
      const cps = await api(`${net.api}/cps`);
      const states = Object.fromEntries(
        (cps.body.items as Row[]).map((c) => [c.cp_id, c.state]),
      );
      // Either still DESCONECTADO or already back: the monitors reconnect on their own.
      assert.ok(["DESCONECTADO", "ACTIVADO"].includes(states["CP-01"] as string));
      await central2.waitFor(/STATE CP-01 ACTIVADO/);
      await central2.waitFor(/STATE CP-02 PARADO/);
      const sessions = await api(`${net.api}/sessions?cp=CP-01`);
      assert.equal(sessions.body.total, 1);
      assert.equal((sessions.body.items as Row[])[0].status, "ENDED");
      const events = await eventually("the reconnection events", async () => {
        const e = await api(`${net.api}/events?kind=reconnected`);
        return (e.body.total as number) >= 2 && e;
      });
      assert.equal(events.status, 200);
    }),
);
