/**
 * Issue 15, Central's settlement: a session Central closes without the engine's word is
 * provisional, the CP is not authorized again until the engine's own end arrives, and that end
 * settles the row and the driver's final ticket to what the engine delivered — whatever
 * Central or the driver decided meanwhile. Against the real programs and broker; the engine's
 * word is read on telemetry_topic, apart from Central, as the independent record.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeFrame, FrameDecoder } from "../shared/protocol/framing.ts";
import { isNormalEnd, stamp, type SupplyEnd, type Ticket } from "../shared/protocol/messages.ts";
import { amountFor } from "../shared/protocol/money.ts";
import {
  api,
  E2E,
  eventually,
  freePort,
  type Network,
  type Proc,
  query,
  signedAs,
  ticketOf,
  withScenario,
} from "./harness.ts";

type Row = Record<string, unknown>;

/**
 * An engine's health port that answers every check OK: a CP whose monitor sees an idle,
 * healthy engine while the engine that supplied its last session cannot be heard on Kafka
 * (the first reproduction: the monitor is back within 2 s of the heal, the engine's
 * end of supply much later).
 */
function healthyEngineStandIn(port: number): { close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const decoder = new FrameDecoder();
        const buf = new Uint8Array(4096);
        try {
          for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
            for (const f of decoder.push(buf.subarray(0, n))) {
              const check = f.ok ? f.value as { type?: string; seq?: number } : undefined;
              if (check?.type !== "HEALTH_CHECK") continue;
              await conn.write(encodeFrame({ type: "HEALTH", seq: check.seq, status: "OK" }));
            }
          }
        } catch { /* closed */ }
        conns.delete(conn);
      })();
    }
  })().catch(() => {});
  return {
    close: () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* gone */ }
      }
    },
  };
}

const sessionRow = (net: Network, sessionId: string) =>
  query(net.db, (db) => db.prepare("SELECT * FROM sessions WHERE session_id = ?").get(sessionId)) as
    | Row
    | undefined;

/** The first SUPPLY_END the engine sent for `sessionId` (it may send it again until acked). */
function engineEnd(seen: Record<string, unknown>[], sessionId: string): SupplyEnd | undefined {
  return seen.find((m) => m.type === "SUPPLY_END" && m.session_id === sessionId) as
    | SupplyEnd
    | undefined;
}

/** Waits for the first telemetry reading of at least `kwh` and returns its session id. */
async function supplying(seen: Record<string, unknown>[], cp: string, kwh: number) {
  const t = await eventually(
    `telemetry from ${cp} of ${kwh} kWh or more`,
    () =>
      seen.find((m) =>
        m.type === "TELEMETRY" && m.cp_id === cp && (m.consumo_kwh as number) >= kwh
      ),
    20_000,
  );
  return t.session_id as string;
}

/** Asserts that the row and the final ticket equal the engine's end of supply (I1). */
function assertSettledTo(row: Row, final: Ticket, end: SupplyEnd): void {
  assert.equal(row.provisional, 0, "the row is final");
  assert.equal(typeof row.settled_at, "number", "and says when it was settled");
  assert.equal(row.consumo_kwh, end.consumo_kwh, "the engine's kWh");
  assert.equal(row.importe_eur, amountFor(end.consumo_kwh, row.price_eur_kwh as number));
  assert.equal(row.end_reason, end.reason, "the engine's reason");
  assert.equal(row.status, isNormalEnd(end.reason) ? "ENDED" : "ABORTED");
  if (end.ended_at !== undefined) assert.equal(row.ended_at, end.ended_at);
  assert.equal(final.provisional, undefined, "the final ticket is not marked provisional");
  assert.deepEqual(
    [final.consumo_kwh, final.importe_eur, final.reason, final.status, final.ended_at],
    [row.consumo_kwh, row.importe_eur, row.end_reason, row.status, row.ended_at],
    "the final ticket equals the row",
  );
}

/** The last ticket Central sent for `sessionId`, once it is a final one. */
function finalTicket(control: Record<string, unknown>[], sessionId: string) {
  return eventually(`a final ticket for ${sessionId}`, () => {
    const t = control.filter((m) => m.type === "TICKET" && m.session_id === sessionId).at(-1);
    return t && !t.provisional ? t as Ticket : undefined;
  }, 20_000);
}

function thaw(...procs: Proc[]): void {
  for (const p of procs) p.signal("SIGCONT");
}

Deno.test(
  "reproduction 1: a session closed by the watchdog while the engine was cut off is provisional, " +
    "the CP is DENIED SETTLING until the engine's end settles it to its meter, then serves again",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-A"], {
        engineArgs: ["--duration", "12"],
        centralArgs: ["--telemetry-timeout", "3"],
      });
      const { engine, monitor, enginePort } = net.cps["CP-A"];
      const telemetry = await s.watch("telemetry_topic");
      const control = await s.watch("control_topic");
      let standIn: { close: () => void } | undefined;
      try {
        const d1 = await s.driver("D1", ["CP-A"]);
        await d1.waitFor(/^AUTHORIZED at CP-A/);
        const sessionId = await supplying(telemetry.seen, "CP-A", 0.001);

        // The CP host is cut off: its engine and monitor freeze, mid-charge.
        engine.signal("SIGSTOP");
        monitor.signal("SIGSTOP");
        const provisional = await eventually("the session closed provisional", () => {
          const row = sessionRow(net, sessionId);
          return row?.status !== "RUNNING" ? row : undefined;
        }, 15_000);
        assert.deepEqual(
          [provisional.status, provisional.end_reason, provisional.provisional],
          ["ABORTED", "TELEMETRY_TIMEOUT", 1],
        );
        assert.equal(provisional.settled_at, null);
        const first = ticketOf(await d1.waitFor(/^TICKET CP-A: ABORTED \(TELEMETRY_TIMEOUT\)/));
        assert.equal(first.provisional, true, "the driver's ticket says it is provisional");
        assert.equal(first.consumo_kwh, provisional.consumo_kwh);
        const listed = (await api(`${net.api}/sessions?cp=CP-A`)).body.items as Row[];
        assert.deepEqual(
          [listed[0].session_id, listed[0].provisional, listed[0].settled_at],
          [sessionId, 1, null],
        );

        // The monitor is back and sees a healthy engine; the engine's end has not come.
        monitor.signal("SIGKILL");
        await net.waitState("CP-A", "DESCONECTADO");
        const standInPort = freePort();
        standIn = healthyEngineStandIn(standInPort);
        {
          const back = s.spawn(
            "monitor",
            [`127.0.0.1:${standInPort}`, `127.0.0.1:${net.centralPort}`, "CP-A"],
            "monitor CP-A (back)",
          );
          await back.waitFor(/linked to Central/);
          await net.waitState("CP-A", "ACTIVADO");
          await net.central.waitFor(
            /STATE CP-A ACTIVADO .*\[settling .*TELEMETRY_TIMEOUT.*provisional\]/,
          );
          const cp = (await api(`${net.api}/cps/CP-A`)).body as Row;
          assert.deepEqual((cp.unsettled as Row[]).map((u) => u.session_id), [sessionId]);
          const d2 = await s.driver("D2", ["CP-A"]);
          const denied = await d2.waitFor(/^DENIED at CP-A/);
          assert.match(denied, /has not yet reported the end of its previous charge/);
          await net.waitEvent("denied", { cp: "CP-A", detail: /D2 asked for CP-A: SETTLING/ });

          // The engine thaws: its end of supply arrives and settles the row to its meter.
          thaw(engine);
          const end = await eventually("the engine's end of supply", () =>
            engineEnd(telemetry.seen, sessionId), 30_000);
          assert.ok(end.consumo_kwh >= first.consumo_kwh, "the engine delivered at least that");
          const row = await eventually("the row settled", () => {
            const r = sessionRow(net, sessionId);
            return r?.provisional === 0 ? r : undefined;
          }, 15_000);
          assertSettledTo(row, await finalTicket(control.seen, sessionId), end);
          // The engine's own file agrees: what it recorded as delivered is what was billed.
          const recorded = (await Deno.readTextFile(join(s.dir, `ev-engine-${enginePort}.jsonl`)))
            .split("\n").filter((l) =>
              l.trim()
            ).map((l) => JSON.parse(l))
            .find((r) => r.kind === "end" && r.session_id === sessionId);
          assert.deepEqual(
            [recorded?.consumo_kwh, recorded?.reason],
            [row.consumo_kwh, row.end_reason],
          );
          await net.waitEvent("session_settled", { cp: "CP-A" });
          const cpAfter = (await api(`${net.api}/cps/CP-A`)).body as Row;
          assert.deepEqual(cpAfter.unsettled, [], "nothing left to settle");
          const listedAfter = (await api(`${net.api}/sessions?cp=CP-A`)).body.items as Row[];
          const apiRow = listedAfter.find((r) => r.session_id === sessionId)!;
          assert.deepEqual(
            [apiRow.provisional, apiRow.consumo_kwh, apiRow.end_reason],
            [0, end.consumo_kwh, end.reason],
          );

          // The CP serves a new charge once its real engine is monitored again.
          back.signal("SIGKILL");
          await net.waitState("CP-A", "DESCONECTADO");
          await s.monitor(enginePort, net.centralPort, "CP-A");
          await net.waitState("CP-A", "ACTIVADO");
        }
        const d3 = await s.driver("D3", ["CP-A"]);
        await d3.waitFor(/^AUTHORIZED at CP-A/);
        const next = ticketOf(await d3.waitFor(/^TICKET CP-A: ENDED \(COMPLETED\)/, 40_000));
        assert.equal(next.provisional, undefined);
        assert.ok(next.consumo_kwh > 0);
      } finally {
        thaw(engine, monitor);
        standIn?.close();
        await telemetry.stop();
        await control.stop();
      }
    }),
);

Deno.test(
  "reproduction 2: a driver's cancel that reaches Central before the engine's end does not " +
    "override the engine's record: the row ends with the engine's reason and kWh",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-B"], { engineArgs: ["--duration", "6"] });
      const { engine, monitor } = net.cps["CP-B"];
      const telemetry = await s.watch("telemetry_topic");
      const control = await s.watch("control_topic");
      try {
        const d1 = await s.driver("D1", ["CP-B"]);
        await d1.waitFor(/^AUTHORIZED at CP-B/);
        const sessionId = await supplying(telemetry.seen, "CP-B", 0.001);
        const row0 = sessionRow(net, sessionId)!;

        // The engine's word is held up (frozen with its monitor, as behind a broker outage);
        // meanwhile the driver's give-up cancel reaches Central.
        engine.signal("SIGSTOP");
        monitor.signal("SIGSTOP");
        await s.produceRaw("requests_topic", [{
          key: "D1",
          value: JSON.stringify(
            stamp({ type: "CANCEL_REQUEST", driver_id: "D1", request_id: String(row0.request_id) }),
          ),
        }]);
        const cancelled = await eventually("the cancel closed the row provisional", () => {
          const r = sessionRow(net, sessionId);
          return r?.status !== "RUNNING" ? r : undefined;
        }, 15_000);
        assert.deepEqual(
          [cancelled.status, cancelled.end_reason, cancelled.provisional],
          ["ABORTED", "DRIVER_CANCELLED", 1],
        );

        // The engine had completed the supply by its record: it reports that, late. Its
        // record is played here (the frozen engine stands for it and is put down first), so
        // that the test does not depend on how fast a thawed engine reads its orders.
        engine.signal("SIGKILL");
        const delivered = 0.417;
        const end = stamp({
          type: "SUPPLY_END",
          cp_id: "CP-B",
          driver_id: "D1",
          session_id: sessionId,
          consumo_kwh: delivered,
          importe_eur: amountFor(delivered, row0.price_eur_kwh as number),
          reason: "COMPLETED",
          ended_at: Date.now() - 1_000,
        });
        // Signed with CP-B's key, as the engine would: Central takes nothing unsigned.
        const endText = JSON.stringify(end);
        const endHeaders = await signedAs(net.db, "CP-B", endText);
        await s.produceRaw("telemetry_topic", [{
          key: "CP-B",
          value: endText,
          headers: endHeaders,
        }]);
        const row = await eventually("the row settled", () => {
          const r = sessionRow(net, sessionId);
          return r?.provisional === 0 ? r : undefined;
        }, 15_000);
        assert.deepEqual(
          [row.status, row.end_reason, row.consumo_kwh],
          ["ENDED", "COMPLETED", delivered],
          "COMPLETED stays COMPLETED, not DRIVER_CANCELLED",
        );
        assertSettledTo(row, await finalTicket(control.seen, sessionId), end);
        const ack = await eventually(
          "Central's acknowledgement",
          () => control.seen.find((m) => m.type === "SUPPLY_END_ACK" && m.session_id === sessionId),
        );
        assert.equal(ack.cp_id, "CP-B");

        // A later end for the session (a resend, even one with other figures) changes nothing:
        // the first the engine reported is final; it is acknowledged again.
        const repeat = JSON.stringify({ ...end, id: crypto.randomUUID(), consumo_kwh: 9 });
        await s.produceRaw("telemetry_topic", [{
          key: "CP-B",
          value: repeat,
          headers: await signedAs(net.db, "CP-B", repeat),
        }]);
        await eventually(
          "the repeat acknowledged",
          () =>
            control.seen.filter((m) => m.type === "SUPPLY_END_ACK" && m.session_id === sessionId)
              .length >= 2,
        );
        assert.equal(sessionRow(net, sessionId)!.consumo_kwh, delivered);
      } finally {
        thaw(engine, monitor);
        await telemetry.stop();
        await control.stop();
      }
    }),
);
