/**
 * Issue 15, I5 across databases: a second EV_Central on the same broker and topic prefix but
 * another database is the standby of the network (central/kafka_claim.ts). It serves nothing,
 * takes over within 5 s of the active one's kill -9 (claim timeout 3 s + one 0.5 s poll + the
 * takeover's round trips), and a frozen Central that wakes up after the takeover gets nothing
 * to engines or drivers and exits 3.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { api, E2E, query, type Scenario, ticketOf, withScenario } from "./harness.ts";
import { type Central, cpKnowing, listening, startCentral } from "./centrals.ts";

const linkedTo = (c: Central) => new RegExp(`linked to Central at 127\\.0\\.0\\.1:${c.port}`);
const NETWORK_STANDBY = /standby: another Central serves this network \(topic prefix "t\w+_"/;
const SERVES = /this Central now serves the network/;
/** Central's decisions and CP states, as its log shows them. */
const DECISION = /STATE |authorized:|denied:|session_ended:|registered:|reconnected:/;

const sessionsIn = (db: string) =>
  query(db, (d) => d.prepare("SELECT driver_id, cp_id, status FROM sessions").all())
    .map((r) => ({ ...r }));

/** A on one database, then B on another, same broker and prefix: B waits as the standby. */
async function pair(s: Scenario): Promise<{ a: Central; b: Central }> {
  const a = startCentral(s, join(s.dir, "central_A.db"), "central A");
  await a.proc.waitFor(/listening for monitors on port/);
  const b = startCentral(s, join(s.dir, "central_B.db"), "central B");
  await b.proc.waitFor(NETWORK_STANDBY, 15_000);
  return { a, b };
}

Deno.test(
  "a Central on another database but the same network is its standby and takes over within 5 s of a kill -9",
  E2E,
  () =>
    withScenario(async (s) => {
      const { a, b } = await pair(s);
      const cps = await Promise.all(["CP-01", "CP-02"].map((id) => cpKnowing(s, id, [a, b])));
      const monitors = cps.map((c) => c.monitor);
      for (const m of monitors) await m.waitFor(linkedTo(a));
      await a.api.waitState("CP-01", "ACTIVADO");
      await a.api.waitState("CP-02", "ACTIVADO");

      // The standby serves nothing: no monitor port, its API says standby, it decides nothing.
      assert.equal(await listening(b.port), false, "the standby's monitor port is closed");
      const health = await api(`http://127.0.0.1:${b.http}/health`);
      assert.equal(health.status, 503);
      assert.equal(health.body.role, "standby");
      assert.match(String(health.body.error), /^standby: another Central serves this network/);

      const first = await s.driver("D-1", ["CP-01", "CP-02"]);
      assert.equal((await first.exit(60_000)).code, 0);
      const tickets = first.output.filter((l) => l.startsWith("TICKET ")).map(ticketOf);
      assert.deepEqual(tickets.map((t) => `${t.cp_id} ${t.status}`), [
        "CP-01 ENDED",
        "CP-02 ENDED",
      ]);
      assert.deepEqual(b.proc.output.filter((l) => DECISION.test(l)), [], "B decided nothing");
      assert.equal(sessionsIn(a.db).length, 2, "A answered every request");
      assert.deepEqual(sessionsIn(b.db), [], "B's database has no session");

      const mark = monitors.map((m) => m.mark());
      const killedAt = Date.now();
      a.proc.signal("SIGKILL");
      await b.proc.waitFor(SERVES, 5000);
      const tookMs = Date.now() - killedAt;
      assert.ok(tookMs <= 5000, `B took over ${tookMs} ms after the kill`);
      console.log(`B served the network ${tookMs} ms after A's kill -9`);
      await b.proc.waitFor(/listening for monitors on port/, 10_000);
      await Promise.all(
        monitors.map((m, i) => m.waitFor(linkedTo(b), 15_000, mark[i])),
      );
      await b.api.waitState("CP-01", "ACTIVADO", 15_000);
      await b.api.waitState("CP-02", "ACTIVADO", 15_000);

      const second = await s.driver("D-2", ["CP-02"]);
      assert.equal((await second.exit(60_000)).code, 0);
      const ticket = ticketOf(second.output.find((l) => l.startsWith("TICKET "))!);
      assert.equal(ticket.status, "ENDED");
      assert.deepEqual(sessionsIn(b.db), [{ driver_id: "D-2", cp_id: "CP-02", status: "ENDED" }]);
    }),
);

Deno.test(
  "a frozen Central whose network was taken over wakes up, gets nothing to engines or drivers and exits 3",
  E2E,
  () =>
    withScenario(async (s) => {
      const { a, b } = await pair(s);
      const { engine, monitor } = await cpKnowing(s, "CP-01", [a, b]);
      await monitor.waitFor(linkedTo(a));
      await a.api.waitState("CP-01", "ACTIVADO");

      const mark = monitor.mark();
      a.proc.signal("SIGSTOP");
      await b.proc.waitFor(SERVES, 5000);
      await monitor.waitFor(linkedTo(b), 20_000, mark);
      await b.api.waitState("CP-01", "ACTIVADO", 15_000);

      // An operator's PARAR reaches the frozen A: it acts on it when it wakes up (its own
      // database is still its own), but the order must never reach the engine.
      const order = api(`http://127.0.0.1:${a.http}/command`, { command: "PARAR", cp_id: "CP-01" })
        .catch(() => undefined);
      a.proc.signal("SIGCONT");
      const status = await a.proc.exit(15_000);
      await order;
      assert.equal(status.code, 3, "A exits 3, as after a lost lease");
      assert.ok(
        a.proc.output.some((l) =>
          /network claim lost: .+; stopping without writing anything/.test(l)
        ),
        "A says why it stops",
      );

      // A charge through B works, and the engine, which read the control topic past anything
      // A sent, never stopped.
      const driver = await s.driver("D-2", ["CP-01"]);
      assert.equal((await driver.exit(60_000)).code, 0);
      const ticket = ticketOf(driver.output.find((l) => l.startsWith("TICKET "))!);
      assert.equal(ticket.status, "ENDED");
      assert.deepEqual(
        engine.output.filter((l) => /PARADO/.test(l)),
        [],
        "the engine never acted on A's PARAR",
      );
      await b.api.waitState("CP-01", "ACTIVADO");
    }),
);
