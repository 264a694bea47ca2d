/**
 * Issue 4: the spec's failure flows and those of a real deployment, each against the real
 * programs and broker: engine faults, lost monitors, the session watchdog, unanswered
 * requests and Central restarts. (Broker restarts: broker_restart_test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { centralApi, E2E, query, ticketOf, withScenario } from "./harness.ts";

type Row = Record<string, unknown>;

Deno.test(
  "engine KO, killed or hung: AVERIADO at once; OK again: ACTIVADO",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"]);
      const { central } = net;
      let cp = net.cps["CP-01"];

      let mark = central.mark();
      let t0 = Date.now();
      await cp.engine.type("ko");
      await central.waitFor(/STATE CP-01 AVERIADO/, 5000, mark);
      console.log(`engine KO → AVERIADO shown: ${Date.now() - t0} ms`);
      await cp.monitor.waitFor(/AVERIA: engine answers KO \(sent to Central\)/);
      mark = central.mark();
      await cp.engine.type("ok");
      await central.waitFor(/STATE CP-01 ACTIVADO/, 5000, mark);

      mark = central.mark();
      t0 = Date.now();
      cp.engine.signal("SIGKILL");
      await central.waitFor(/STATE CP-01 AVERIADO/, 5000, mark);
      console.log(`engine killed → AVERIADO shown: ${Date.now() - t0} ms`);
      mark = central.mark();
      const engine2 = await s.engine(cp.enginePort, [], "engine CP-01 (restarted)");
      await central.waitFor(/STATE CP-01 ACTIVADO/, 10_000, mark);

      mark = central.mark();
      t0 = Date.now();
      engine2.signal("SIGSTOP"); // hung: the socket stays open but nothing answers
      await central.waitFor(/STATE CP-01 AVERIADO/, 5000, mark);
      console.log(`engine hung → AVERIADO shown: ${Date.now() - t0} ms`);
      mark = central.mark();
      engine2.signal("SIGCONT");
      await central.waitFor(/STATE CP-01 ACTIVADO/, 5000, mark);

      const kinds = query(net.db, (db) => db.prepare("SELECT kind FROM events ORDER BY id").all())
        .map((r) => r.kind);
      assert.deepEqual(kinds, [
        "registered",
        ...Array(3).fill(["averia", "recovered"]).flat(),
      ]);
      cp = { ...cp, engine: engine2 };
    }),
);

Deno.test(
  "a fault during a charge aborts it with what was delivered; the driver goes on 4 s later",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01", "CP-02"], { engineArgs: ["--duration", "3"] });
      const driver = await s.driver("D1", ["CP-01", "CP-02"], ["--silence-timeout", "20"]);
      await driver.waitFor(/^CHARGING CP-01: 0\.0[1-9]/);
      await net.cps["CP-01"].engine.type("ko");
      const ticketLine = await driver.waitFor(/^TICKET CP-01: ABORTED \(AVERIA\)/);
      await net.central.waitFor(/STATE CP-01 AVERIADO/);
      await driver.waitFor(/^WAIT 4 s/);
      await driver.waitFor(/^TICKET CP-02: ENDED \(COMPLETED\)/, 20_000);
      assert.equal((await driver.exit()).code, 0);
      assert.ok(
        driver.output.some((l) =>
          /SUMMARY D1: 1 charged, 1 aborted, 0 denied, 0 not answered/.test(l)
        ),
      );

      const ticket = ticketOf(ticketLine);
      assert.ok((ticket.consumo_kwh as number) > 0, "what was delivered is billed");
      const row = query(net.db, (db) =>
        db.prepare("SELECT * FROM sessions WHERE session_id = ?").get(
          ticket.session_id as string,
        )) as Row;
      assert.equal(row.status, "ABORTED");
      assert.equal(row.end_reason, "AVERIA");
      assert.equal(row.consumo_kwh, ticket.consumo_kwh);
      assert.equal(row.importe_eur, ticket.importe_eur);
      await net.cps["CP-01"].engine.waitFor(/STATUS CP-01 AVERIADO/);
    }),
);

Deno.test(
  "a lost monitor shows DESCONECTADO: at once when its socket closes, by heartbeat when it goes silent",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01", "CP-02"]);
      const { central } = net;

      let mark = central.mark();
      let t0 = Date.now();
      net.cps["CP-01"].monitor.signal("SIGKILL");
      await central.waitFor(/STATE CP-01 DESCONECTADO/, 3000, mark);
      console.log(`monitor killed → DESCONECTADO shown: ${Date.now() - t0} ms`);

      mark = central.mark();
      t0 = Date.now();
      net.cps["CP-02"].monitor.signal("SIGSTOP"); // host frozen: no FIN, no heartbeats
      await central.waitFor(/STATE CP-02 DESCONECTADO/, 8000, mark);
      const silent = Date.now() - t0;
      console.log(`monitor silent → DESCONECTADO shown: ${silent} ms`);
      assert.ok(silent >= 2000, "not before the heartbeat timeout (3 s)");
      mark = central.mark();
      net.cps["CP-02"].monitor.signal("SIGCONT");
      await central.waitFor(/STATE CP-02 ACTIVADO/, 10_000, mark);
      const reason = query(net.db, (db) =>
        db.prepare("SELECT detail FROM events WHERE cp_id = 'CP-02' AND kind = 'disconnected'")
          .get()) as Row;
      assert.match(reason.detail as string, /no heartbeat for 3000 ms/);
    }),
);

Deno.test(
  "a frozen Central: its monitor gives the link up, keeps trying, and gets back in once Central resumes",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"]);
      const { central } = net;
      const monitor = net.cps["CP-01"].monitor;
      const mark = central.mark();
      central.signal("SIGSTOP"); // a long pause of Central's host: no FIN, no answers
      // The monitor gives up after 5 s of silence and reconnects (into the accept queue).
      await monitor.waitFor(/Central silent for 5000 ms/, 15_000);
      central.signal("SIGCONT");
      await central.waitFor(/STATE CP-01 ACTIVADO/, 20_000, mark);
      assert.ok(monitor.running, "the monitor did not give up: it is still running");
    }),
);

Deno.test(
  "a charge goes on while its monitor is lost, and ends normally with its ticket",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "4"] });
      const driver = await s.driver("D1", ["CP-01"]);
      await driver.waitFor(/^CHARGING CP-01/);
      net.cps["CP-01"].monitor.signal("SIGKILL");
      await net.central.waitFor(/STATE CP-01 DESCONECTADO\s+\(driver D1/);
      const ticket = ticketOf(await driver.waitFor(/^TICKET CP-01: ENDED \(COMPLETED\)/));
      const row = query(net.db, (db) => db.prepare("SELECT * FROM sessions").get()) as Row;
      assert.equal(row.status, "ENDED");
      assert.equal(row.consumo_kwh, ticket.consumo_kwh);
      await s.monitor(net.cps["CP-01"].enginePort, net.centralPort, "CP-01");
      await net.waitState("CP-01", "ACTIVADO");
    }),
);

Deno.test(
  "watchdog: a session whose telemetry stops is closed ABORTED provisional; the engine's meter settles it when the host is back",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"], {
        engineArgs: ["--duration", "60"],
        centralArgs: ["--telemetry-timeout", "3"],
      });
      const cp = net.cps["CP-01"];
      const driver = await s.driver("D1", ["CP-01"]);
      await driver.waitFor(/^CHARGING CP-01/);
      // The CP's host freezes: neither its engine nor its monitor says anything more.
      cp.engine.signal("SIGSTOP");
      cp.monitor.signal("SIGSTOP");
      const provisional = ticketOf(
        await driver.waitFor(/^TICKET CP-01: ABORTED \(TELEMETRY_TIMEOUT\) PROVISIONAL/),
      );
      assert.equal(provisional.provisional, true);
      const sessionRow = () =>
        query(net.db, (db) => db.prepare("SELECT * FROM sessions").get()) as Row;
      let row = sessionRow();
      assert.deepEqual([row.status, row.end_reason, row.provisional], [
        "ABORTED",
        "TELEMETRY_TIMEOUT",
        1,
      ]);
      assert.equal(row.consumo_kwh, provisional.consumo_kwh);
      assert.ok(!/SUMINISTRANDO/.test(net.central.output.findLast((l) => /STATE CP-01/.test(l))!));

      // The host comes back: the engine gets the STOP_SUPPLY it missed, stops supplying and
      // reports its meter, which settles the session; the driver gets the final ticket.
      const mark = cp.engine.mark();
      cp.engine.signal("SIGCONT");
      cp.monitor.signal("SIGCONT");
      const settled = ticketOf(await driver.waitFor(/^TICKET CP-01: \w+ \(\w+\) SETTLED/, 30_000));
      assert.equal((await driver.exit()).code, 0);
      await cp.engine.waitFor(/STATUS CP-01 ACTIVADO/, 10_000, mark);
      await net.waitState("CP-01", "ACTIVADO");
      row = sessionRow();
      assert.equal(row.provisional, 0);
      assert.equal(row.consumo_kwh, settled.consumo_kwh);
      assert.equal(row.importe_eur, settled.importe_eur);
      const ends = (await Deno.readTextFile(join(s.dir, `ev-engine-${cp.enginePort}.jsonl`)))
        .trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.kind === "end");
      assert.deepEqual(
        ends.map((e) => [e.session_id, e.consumo_kwh]),
        [[row.session_id, row.consumo_kwh]],
        "the row is the engine's record",
      );
      assert.equal(
        (query(net.db, (db) => db.prepare("SELECT count(*) AS n FROM sessions").get()) as Row).n,
        1,
      );
    }),
);

Deno.test(
  "a request Central never answers: the driver says so and goes on; later it expires, unserved",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"], { centralArgs: ["--request-timeout", "2"] });
      assert.equal((await net.central.stop()).code, 0);

      const driver = await s.driver("D1", ["CP-01"], ["--answer-timeout", "2"]);
      await driver.waitFor(/^NO ANSWER for CP-01 within 2 s; going on/);
      assert.equal((await driver.exit()).code, 0);

      await s.central(net.centralPort, net.db, [
        "--http",
        String(net.httpPort),
        "--request-timeout",
        "2",
      ]);
      const restarted = centralApi(net.api);
      await restarted.waitEvent("denied", {
        cp: "CP-01",
        detail: /^driver D1 asked for CP-01: EXPIRED$/,
      });
      await restarted.waitState("CP-01", "ACTIVADO");
      const sessions = query(net.db, (db) =>
        db.prepare("SELECT count(*) AS n FROM sessions").get()) as Row;
      assert.equal(sessions.n, 0, "never authorized by surprise");
    }),
);

Deno.test(
  "Central killed mid-charge and restarted: the session resumes, ends once, billed once",
  E2E,
  () =>
    withScenario(async (s) => {
      // The supply outlasts Central's restart (its lease and network claim take a few seconds
      // under load), so the restarted Central sees it running.
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "20"] });
      const driver = await s.driver("D1", ["CP-01"]);
      await driver.waitFor(/^CHARGING CP-01/);
      net.central.signal("SIGKILL");
      await net.central.exit();
      const central = await s.central(net.centralPort, net.db, ["--http", String(net.httpPort)]);
      await central.waitFor(/STATE CP-01 SUMINISTRANDO\s+driver D1/);
      const ticket = ticketOf(await driver.waitFor(/^TICKET CP-01: ENDED \(COMPLETED\)/, 40_000));
      assert.equal((await driver.exit()).code, 0);
      await central.waitFor(/STATE CP-01 ACTIVADO/);
      const rows = query(net.db, (db) => db.prepare("SELECT * FROM sessions").all()) as Row[];
      assert.equal(rows.length, 1, "never duplicated");
      assert.equal(rows[0].status, "ENDED");
      assert.equal(rows[0].consumo_kwh, ticket.consumo_kwh);
      assert.equal(rows[0].importe_eur, ticket.importe_eur);
      assert.equal(driver.output.filter((l) => l.startsWith("TICKET")).length, 1);
      const outbox = query(net.db, (db) =>
        db.prepare("SELECT count(*) AS n FROM outbox").get()) as Row;
      assert.equal(outbox.n, 0, "every control message delivered");
    }),
);
