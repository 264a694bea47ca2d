/**
 * Issue 15, reproduction 1 with a real partition: three hosts in network namespaces (PC1 the
 * drivers; PC2 the broker and Central; PC3 an engine and its monitor). 6 s into a charge PC3's
 * cable is taken down inside its namespace and put back 30 s later — longer than every
 * timeout, so both sides act on their own meanwhile. Once healed, the session is settled to the
 * engine's own record, the driver holds the final ticket, and the CP serves the next driver
 * within seconds (the engine's consumer of orders must not take 27 s to come back).
 *
 * Needs root and iproute2; elsewhere it is skipped with a message.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { startBroker } from "../scripts/broker.ts";
import { createHosts, hostsUnavailable, ip } from "../scripts/chaos/hosts.ts";
import { isNormalEnd, type Ticket } from "../shared/protocol/messages.ts";
import { amountFor } from "../shared/protocol/money.ts";
import { E2E, eventually, query, Scenario, ticketOf } from "./harness.ts";

const unavailable = await hostsUnavailable();
if (unavailable) console.error(`partition test skipped: ${unavailable}`);

type Row = Record<string, unknown>;
type RecordLine = Record<string, unknown> & { kind: string; session_id: string };

/** How long PC3's cable stays down: past the watchdog, the autonomy and the session timeout. */
const CUT_MS = 30_000;

/** The engine's record file, line by line (a line being written is left for the next read). */
async function readRecord(path: string): Promise<RecordLine[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").slice(0, -1).filter((l) => l.trim()).map((l) => JSON.parse(l));
}

Deno.test({
  name: "partition: PC3 cut for 30 s mid-charge — the session settles to the engine's record, " +
    "the driver gets the final ticket, and the CP serves the next driver within seconds",
  ...E2E,
  ignore: unavailable !== undefined,
  fn: async () => {
    const net = await createHosts(["pc1", "pc2", "pc3"] as const, crypto.randomUUID().slice(0, 4));
    const dir = await Deno.makeTempDir({ prefix: "ev-test-partition-" });
    let stopBroker = async () => {};
    let s: Scenario | undefined;
    let cut = false;
    const cable = async (up: boolean) => {
      await ip("-n", net.ns.pc3, "link", "set", "eth0", up ? "up" : "down");
      cut = !up;
    };
    try {
      const ip2 = net.addr.pc2;
      const broker = await startBroker({
        port: 9092,
        controllerPort: 9093,
        dataDir: join(dir, "kafka"),
        listenHost: ip2,
        advertisedHost: ip2,
        wrap: net.wrap("pc2"),
        probe: (bootstrap) => net.probeKafka("pc2", bootstrap),
      });
      stopBroker = () => broker.stop();
      s = new Scenario(broker.bootstrap, dir);
      const kafka = `${ip2}:9092`;
      const db = join(dir, "central.db");
      const recordPath = join(dir, "ev-engine-7001.jsonl");
      const row = (sessionId: string) =>
        query(db, (d) => d.prepare("SELECT * FROM sessions WHERE session_id = ?").get(sessionId)) as
          | Row
          | undefined;

      const central = s.spawn("central", ["7000", kafka, db, "--http", "8080"], "central@PC2", [
        ...net.wrap("pc2"),
      ]);
      await central.waitFor(/listening for monitors on port 7000/, 60_000);
      const engine = s.spawn(
        "engine",
        [kafka, "7001", "--duration", "20"],
        "engine CP-01@PC3",
        net.wrap("pc3"),
      );
      await engine.waitFor(/health checks on port/);
      s.spawn("monitor", ["127.0.0.1:7001", `${ip2}:7000`, "CP-01"], "monitor CP-01@PC3", [
        ...net.wrap("pc3"),
      ]);
      await central.waitFor(/STATE CP-01 ACTIVADO/);

      const d1 = s.spawn(
        "driver",
        [kafka, "D1", "--cp", "CP-01", "--settle-timeout", "180"],
        "driver D1@PC1",
        net.wrap("pc1"),
      );
      // The second driver, ready at its prompt before the heal, so that its request goes out
      // the moment the CP shows again.
      const d2 = s.spawn("driver", [kafka, "D2"], "driver D2@PC1", net.wrap("pc1"));
      await d1.waitFor(/^AUTHORIZED at CP-01/);
      // Six seconds into the charge, by the driver's clock on its screen.
      await d1.waitFor(/^CHARGING CP-01: .* 00:05/, 20_000);
      const started = (query(db, (d) =>
        d.prepare("SELECT session_id FROM sessions WHERE driver_id = 'D1'").get()) as Row)
        .session_id as string;

      // The cut: PC3 loses its cable, mid-charge.
      const cutMark = central.mark();
      await cable(false);
      const cutAt = Date.now();
      await central.waitFor(/STATE CP-01 DESCONECTADO/, 15_000, cutMark);
      const closed = await eventually("Central closes the session on its own", () => {
        const r = row(started);
        return r?.status !== "RUNNING" ? r : undefined;
      }, 20_000);
      assert.deepEqual(
        [closed.status, closed.end_reason, closed.provisional],
        ["ABORTED", "TELEMETRY_TIMEOUT", 1],
        "closed without the engine's word: provisional",
      );
      const provisional = ticketOf(await d1.waitFor(/^TICKET CP-01: .*PROVISIONAL/, 15_000));
      assert.equal(provisional.provisional, true);
      await d2.waitFor(/CP id/i, 30_000);
      await delay(Math.max(0, cutAt + CUT_MS - Date.now()));

      // The heal. D2 asks as soon as Central shows the CP again: the engine's end may not be
      // in, and then it must be denied SETTLING (I2: the engine may still be supplying).
      const healMark = central.mark();
      const engineMark = engine.mark();
      await cable(true);
      const healAt = Date.now();
      // The engine's status line drops "no contact with Kafka" once its consumer of orders
      // fetches again: how soon it can take an order.
      const heard = engine.waitFor(/^STATUS CP-01 (?!.*no contact with Kafka)/, 40_000, engineMark)
        .then(() =>
          (Date.now() - healAt) / 1000, () =>
          Infinity);
      await central.waitFor(/STATE CP-01 ACTIVADO/, 30_000, healMark);
      const d2Mark = d2.mark();
      await d2.type("CP-01");
      const answer = await d2.waitFor(/^(DENIED|AUTHORIZED) at CP-01/, 30_000, d2Mark);
      const settled = await eventually("the session settled", () => {
        const r = row(started);
        return r?.provisional === 0 ? r : undefined;
      }, 60_000);
      const settledAt = settled.settled_at as number;
      console.log(`settled ${((settledAt - healAt) / 1000).toFixed(1)} s after the heal`);
      if (answer.startsWith("DENIED")) {
        // The request met the CP unsettled: a denial, for that reason.
        assert.match(answer, /^DENIED at CP-01: the charging point has not yet reported/);
        const denied = query(db, (d) =>
          d.prepare(
            "SELECT at FROM events WHERE kind = 'denied' AND detail LIKE '%D2 asked for CP-01: SETTLING'",
          ).get()) as { at: number } | undefined;
        assert.ok(denied, "Central stored the SETTLING denial");
        assert.ok(denied.at >= healAt && denied.at <= settledAt, "between the heal and the end");
      } else {
        // Authorized only once the engine's end was in (I2).
        console.log("the engine's end was in before D2 asked: no SETTLING denial to see");
        const d2Row = query(
          db,
          (d) =>
            d.prepare("SELECT started_at FROM sessions WHERE driver_id = 'D2'").get(),
        ) as Row;
        assert.ok((d2Row.started_at as number) >= settledAt, "D2 authorized after the settlement");
      }

      const consumerBackS = await heard;
      console.log(
        `the engine's consumer of orders fetched again ${
          consumerBackS.toFixed(1)
        } s after the heal`,
      );
      assert.ok(consumerBackS < 10, "the engine hears Kafka within seconds of the heal");

      // I1: the row is what the engine's record says it delivered.
      const end = await eventually(
        "the end in the engine's record",
        async () =>
          (await readRecord(recordPath)).find((l) => l.kind === "end" && l.session_id === started),
      );
      assert.equal(settled.consumo_kwh, end.consumo_kwh, "the engine's kWh");
      assert.equal(settled.end_reason, end.reason, "the engine's reason");
      assert.equal(settled.ended_at, end.ended_at);
      assert.equal(settled.status, isNormalEnd(end.reason as never) ? "ENDED" : "ABORTED");
      assert.equal(
        settled.importe_eur,
        amountFor(end.consumo_kwh as number, settled.price_eur_kwh as number),
      );
      assert.ok(
        (end.consumo_kwh as number) > (closed.consumo_kwh as number),
        "the engine supplied past Central's last figures",
      );
      // I3: the driver shows and keeps the final ticket, equal to the row.
      const final = ticketOf(await d1.waitFor(/^TICKET CP-01: .*SETTLED/, 30_000));
      // The file is written after the line is shown (CI once read it in between).
      const saved = await eventually(
        "the settled ticket saved over the provisional one",
        async () => {
          const t = JSON.parse(
            await Deno.readTextFile(join(dir, "tickets", `${started}.json`)),
          ) as Ticket;
          return t.provisional ? undefined : t;
        },
        10_000,
      );
      for (const t of [final, saved]) {
        assert.equal(t.provisional, undefined, "the final ticket is not provisional");
        assert.deepEqual(
          [t.session_id, t.consumo_kwh, t.importe_eur, t.reason, t.status],
          [started, settled.consumo_kwh, settled.importe_eur, settled.end_reason, settled.status],
        );
      }

      // The CP serves again: the engine takes Central's orders within seconds of the heal.
      // At its prompt again (a denial asks at once): the same CP, now that it is settled.
      if (answer.startsWith("DENIED")) await d2.type("CP-01");
      await d2.waitFor(/^AUTHORIZED at CP-01/, 30_000, d2Mark);
      const next = await eventually(
        "D2's session in Central",
        () =>
          query(
            db,
            (d) =>
              d.prepare("SELECT * FROM sessions WHERE driver_id = 'D2' ORDER BY started_at DESC")
                .get(),
          ) as Row | undefined,
      );
      const start = await eventually(
        "the engine started D2's supply",
        async () =>
          (await readRecord(recordPath)).find((l) =>
            l.kind === "start" && l.session_id === next.session_id
          ),
        20_000,
      ).catch(() => undefined);
      if (start) {
        const at = start.at as number;
        console.log(
          `the engine acted on its first order after the heal ${
            ((at - healAt) / 1000).toFixed(1)
          } s after the heal, ${((at - (next.started_at as number)) / 1000).toFixed(1)} s ` +
            "after Central authorized it",
        );
      }
      assert.ok(start, "the engine started the second driver's supply");
      assert.ok(
        (start.at as number) - (next.started_at as number) < 5_000,
        "the engine took the order within seconds of Central's authorization",
      );
      const ticket = ticketOf(await d2.waitFor(/^TICKET CP-01: ENDED \(COMPLETED\)/, 40_000));
      assert.equal(ticket.provisional, undefined);
      assert.ok(ticket.consumo_kwh > 0, "the second driver got energy");
    } catch (e) {
      if (s) console.error(s.report());
      throw e;
    } finally {
      if (cut) await cable(true).catch(() => {});
      await s?.stopAll();
      await stopBroker();
      await net.cleanup();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
