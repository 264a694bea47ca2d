/**
 * Issue 15, reproduction 3 (I5 one active Central): a second EV_Central on the same database
 * and broker is the standby. It does not serve, takes over within 5 s when the active one is
 * killed -9, and a frozen Central that wakes up after a takeover writes nothing and exits.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { api, E2E, query, type Scenario, ticketOf, withScenario } from "./harness.ts";
import { type Central, cpKnowing, listening, startCentral } from "./centrals.ts";

/** Central's decisions and CP states, as its log shows them. */
const DECISION = /STATE |authorized:|denied:|session_ended:|registered:|reconnected:/;

const STANDBY = /standby: Central .+ is active on this database; waiting to take over/;
const ACTIVE = /this Central is now the active one/;

/** Both Centrals started on one database, A first; B waits as the standby. */
async function pair(s: Scenario): Promise<{ a: Central; b: Central; db: string }> {
  const db = join(s.dir, "central.db");
  const a = startCentral(s, db, "central A");
  await a.proc.waitFor(/listening for monitors on port/);
  const b = startCentral(s, db, "central B");
  await b.proc.waitFor(STANDBY, 15_000);
  return { a, b, db };
}

Deno.test(
  "a second Central on the same database is the standby and takes over within 5 s of a kill -9",
  E2E,
  () =>
    withScenario(async (s) => {
      const { a, b, db } = await pair(s);
      const monitors = await Promise.all(
        ["CP-01", "CP-02"].map(async (id) => (await cpKnowing(s, id, [a, b])).monitor),
      );
      for (const m of monitors) {
        await m.waitFor(new RegExp(`linked to Central at 127\\.0\\.0\\.1:${a.port}`));
      }
      await a.api.waitState("CP-01", "ACTIVADO");
      await a.api.waitState("CP-02", "ACTIVADO");

      // The standby serves nothing: no monitor port, its API says standby, it decides nothing.
      assert.equal(await listening(b.port), false, "the standby's monitor port is closed");
      const health = await api(`http://127.0.0.1:${b.http}/health`);
      assert.equal(health.body.role, "standby");
      assert.equal((await api(`http://127.0.0.1:${b.http}/cps`)).status, 503);

      const first = await s.driver("D-1", ["CP-01", "CP-02"]);
      assert.equal((await first.exit(60_000)).code, 0);
      const tickets = first.output.filter((l) => l.startsWith("TICKET ")).map(ticketOf);
      assert.deepEqual(tickets.map((t) => `${t.cp_id} ${t.status}`), [
        "CP-01 ENDED",
        "CP-02 ENDED",
      ]);
      assert.deepEqual(
        b.proc.output.filter((l) => DECISION.test(l)),
        [],
        "every request was answered by A",
      );

      const mark = monitors.map((m) => m.mark());
      const killedAt = Date.now();
      a.proc.signal("SIGKILL");
      await b.proc.waitFor(ACTIVE, 5000);
      const tookMs = Date.now() - killedAt;
      assert.ok(tookMs <= 5000, `B took over ${tookMs} ms after the kill`);
      await b.proc.waitFor(/listening for monitors on port/, 10_000);
      await Promise.all(monitors.map((m, i) =>
        m.waitFor(new RegExp(`linked to Central at 127\\.0\\.0\\.1:${b.port}`), 15_000, mark[i])
      ));
      await b.api.waitState("CP-01", "ACTIVADO", 15_000);
      await b.api.waitState("CP-02", "ACTIVADO", 15_000);

      const second = await s.driver("D-2", ["CP-02"]);
      assert.equal((await second.exit(60_000)).code, 0);
      const ticket = ticketOf(
        second.output.find((l) =>
          l.startsWith("TICKET ")
        )!,
      );
      assert.equal(ticket.status, "ENDED");
      const row = query(db, (d) =>
        d.prepare("SELECT status, driver_id FROM sessions WHERE session_id = ?")
          .get(ticket.session_id)) as Record<string, unknown>;
      assert.deepEqual({ ...row }, { status: "ENDED", driver_id: "D-2" });
    }),
);

Deno.test(
  "a frozen Central whose lease was taken wakes up, writes nothing and exits",
  E2E,
  () =>
    withScenario(async (s) => {
      const { a, b, db } = await pair(s);
      const { monitor } = await cpKnowing(s, "CP-01", [a, b]);
      await monitor.waitFor(new RegExp(`linked to Central at 127\\.0\\.0\\.1:${a.port}`));
      await a.api.waitState("CP-01", "ACTIVADO");

      const mark = monitor.mark();
      a.proc.signal("SIGSTOP");
      await b.proc.waitFor(ACTIVE, 5000);
      // A's link falls silent: the monitor moves to B.
      await monitor.waitFor(
        new RegExp(`linked to Central at 127\\.0\\.0\\.1:${b.port}`),
        20_000,
        mark,
      );
      await b.api.waitState("CP-01", "ACTIVADO", 15_000);

      // A wakes up to a closed monitor link, which it would record (CP-01 disconnected):
      // the fence refuses it and any other write.
      const rows = () =>
        query(db, (d) => ({
          events: d.prepare("SELECT * FROM events ORDER BY id").all(),
          cps: d.prepare("SELECT * FROM charging_points ORDER BY cp_id").all(),
          sessions: d.prepare("SELECT * FROM sessions ORDER BY session_id").all(),
          outbox: d.prepare("SELECT count(*) AS n FROM outbox").get(),
        }));
      const before = rows();
      a.proc.signal("SIGCONT");
      const status = await a.proc.exit(15_000);
      assert.notEqual(status.code, 0, "A exits non-zero");
      assert.ok(
        a.proc.output.some((l) => /lease lost: Central .+ took over/.test(l)),
        "A says why it stops",
      );
      assert.deepEqual(rows(), before, "nothing written after the takeover but by B");
      await b.api.waitState("CP-01", "ACTIVADO");
    }),
);

Deno.test(
  "a Central stopped cleanly hands over at once: the standby serves its monitors",
  E2E,
  () =>
    withScenario(async (s) => {
      const { a, b } = await pair(s);
      const { monitor } = await cpKnowing(s, "CP-01", [a, b]);
      await monitor.waitFor(new RegExp(`linked to Central at 127\\.0\\.0\\.1:${a.port}`));
      const mark = monitor.mark();
      assert.equal((await a.proc.stop()).code, 0);
      const stoppedAt = Date.now();
      await b.proc.waitFor(ACTIVE, 2000);
      assert.ok(Date.now() - stoppedAt < 2000, "the released lease is taken at the next poll");
      await monitor.waitFor(
        new RegExp(`linked to Central at 127\\.0\\.0\\.1:${b.port}`),
        15_000,
        mark,
      );
      await b.api.waitState("CP-01", "ACTIVADO", 15_000);
    }),
);
