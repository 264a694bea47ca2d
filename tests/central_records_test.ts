/**
 * Issue 14, "Central's records": what the history says, and what the operator can remove.
 */
import assert from "node:assert/strict";
import { api, centralApi, E2E, freePort, OPERATOR_TOKEN, withScenario } from "./harness.ts";

type Row = Record<string, unknown>;

async function forget(base: string, cpId: string): Promise<{ status: number; body: Row }> {
  const res = await fetch(`${base}/cps/${encodeURIComponent(cpId)}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
  });
  return { status: res.status, body: await res.json() };
}

const listed = async (base: string) =>
  ((await api(`${base}/cps`)).body.items as Row[]).map((c) => c.cp_id);

Deno.test(
  "a mistyped CP is forgotten (HTTP and console) with its history kept; denials and stops name who and what",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "1"] });
      // Two monitors started with mistyped ids: without --auth, each is enrolled for good.
      const ghosts: Record<string, Awaited<ReturnType<typeof s.monitor>>> = {};
      for (const id of ["CP-7", "CP-8"]) {
        const enginePort = freePort();
        await s.engine(enginePort, ["--duration", "1"], `engine ${id}`);
        ghosts[id] = await s.monitor(enginePort, net.centralPort, id);
        await net.waitState(id, "ACTIVADO");
      }
      const charged = await s.driver("D1", ["CP-7"]);
      assert.equal((await charged.exit()).code, 0);
      assert.equal((await api(`${net.api}/sessions?cp=CP-7&status=ENDED`)).body.total, 1);

      // Every denial names the driver, the CP asked for and the reason.
      const lost = await s.driver("D2", ["CP-99"]);
      assert.equal((await lost.exit()).code, 0);
      await net.waitEvent("denied", { detail: /^driver D2 asked for CP-99: UNKNOWN_CP$/ });

      // A CP whose monitor is linked stays.
      const linked = await forget(net.api, "CP-7");
      assert.equal(linked.status, 409);
      assert.match(String(linked.body.error), /CP-7 is connected: stop its monitor first/);

      for (const m of Object.values(ghosts)) await m.stop();
      await net.waitState("CP-7", "DESCONECTADO");
      await net.waitState("CP-8", "DESCONECTADO");

      const gone = await forget(net.api, "CP-7");
      assert.deepEqual([gone.status, gone.body], [200, { ok: true, cp_id: "CP-7" }]);
      await net.central.type("forget CP-8");
      await net.waitEvent("forgotten", {
        cp: "CP-8",
        detail: /^forgotten by the operator at Central's console; its history stays$/,
      });
      assert.deepEqual(await listed(net.api), ["CP-01"]);
      assert.equal((await api(`${net.api}/cps/CP-7`)).status, 404);
      assert.equal((await forget(net.api, "CP-7")).status, 404, "forgotten once");
      const history = await api(`${net.api}/sessions?cp=CP-7`);
      assert.deepEqual(
        (history.body.items as Row[]).map((r) => [r.driver_id, r.status]),
        [["D1", "ENDED"]],
        "its sessions stay in the history",
      );
      await net.waitEvent("forgotten", {
        cp: "CP-7",
        detail: /^forgotten by the operator through the HTTP API; its history stays$/,
      });

      // A CP stopped at its own monitor: the history says so, not "operator".
      await net.cps["CP-01"].monitor.type("parar");
      await net.waitEvent("parar", {
        cp: "CP-01",
        detail: /^stopped at the CP, from its monitor$/,
      });
      await net.waitState("CP-01", "PARADO");

      // After a restart the forgotten CPs are still gone.
      assert.equal((await net.central.stop()).code, 0);
      await s.central(net.centralPort, net.db, ["--http", String(net.httpPort)]);
      await centralApi(net.api).waitState("CP-01", "PARADO");
      assert.deepEqual(await listed(net.api), ["CP-01"]);
    }),
);
