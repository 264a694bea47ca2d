/**
 * Issue 7: hostile and broken input at Central's TCP port, the engine's health port and on
 * Kafka. Each case gets a clear protocol error (and the link closed where that is right),
 * is logged once, and changes nothing about any CP.
 */
import { setTimeout as delay } from "node:timers/promises";
import assert from "node:assert/strict";
import { countersGrown, E2E, query, signedAs, withScenario } from "./harness.ts";
import { isError, RawClient } from "./raw_tcp.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
type Row = Record<string, unknown>;

Deno.test(
  "Central's TCP port: garbage, lies, oversize, bad UTF-8, wrong shapes, floods",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "2"] });
      const port = net.centralPort;
      const eventsBefore = query(
        net.db,
        (d) => d.prepare("SELECT count(*) AS n FROM events").get(),
      ) as Row;

      // Framing violations: an ERROR frame, then the link is closed.
      const garbage = await RawClient.connect(port);
      await garbage.send(utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      await garbage.waitFrame(isError(/frame length \d+ exceeds the maximum/));
      assert.ok(await garbage.closedWithin(2000), "garbage: closed");

      const oversize = await RawClient.connect(port);
      await oversize.send(RawClient.frame(new Uint8Array(10), 70_000));
      await oversize.waitFrame(isError(/exceeds the maximum of 65536/));
      assert.ok(await oversize.closedWithin(2000), "oversize: closed");

      // Bad bodies: an ERROR each, the link stays usable.
      const shapes = await RawClient.connect(port);
      await shapes.send(RawClient.frame(new Uint8Array([0xc3, 0x28, 0xff])));
      await shapes.waitFrame(isError(/not valid UTF-8/));
      await shapes.send(RawClient.frame(utf8("{not json")));
      await shapes.waitFrame(isError(/not valid JSON/));
      await shapes.sendFrame({
        type: "REGISTER",
        cp_id: 5,
        location: "x",
        price_eur_kwh: 1,
        health: "OK",
      });
      await shapes.waitFrame(isError(/field "cp_id": expected an id/));
      await shapes.sendFrame({ type: "SELF_DESTRUCT" });
      await shapes.waitFrame(isError(/unknown type "SELF_DESTRUCT"/));
      await shapes.sendFrame({ type: "AVERIA" });
      await shapes.waitFrame(isError(/AVERIA before REGISTER/));
      await shapes.sendFrame([1, 2, 3]);
      await shapes.waitFrame(isError(/expected a JSON object/));
      assert.ok(!(await shapes.closedWithin(300)), "still open after 6 bad frames");
      for (let i = 0; i < 4; i++) await shapes.sendFrame({ type: "HEARTBEAT" });
      assert.ok(await shapes.closedWithin(2000), "closed after ten protocol errors");

      // A length that lies, a sender that dribbles, a client that never registers: closed
      // when the 5 s registration time is over. A thousand of the last kind at once.
      const liar = await RawClient.connect(port);
      await liar.send(RawClient.frame(utf8('{"type":'), 100));
      const dribbler = await RawClient.connect(port);
      const frame = RawClient.frame(utf8(JSON.stringify({ type: "HEARTBEAT" })));
      let dribbling = true;
      const drip = (async () => {
        for (const byte of frame) {
          if (!dribbling || !(await dribbler.send(new Uint8Array([byte])))) return;
          await delay(1000); // one byte a second: slower than any timeout
        }
      })();
      const silent = await Promise.all(Array.from({ length: 1000 }, () => RawClient.connect(port)));
      const vanish = await RawClient.connect(port);
      vanish.close();
      assert.ok(await liar.closedWithin(8000), "lying length: closed at the registration timeout");
      assert.ok(await dribbler.closedWithin(8000), "dribbler: closed");
      dribbling = false;
      await drip;
      const closed = await Promise.all(silent.map((c) => c.closedWithin(8000)));
      assert.equal(closed.filter(Boolean).length, 1000, "every silent connection closed");

      // Nobody else was touched: CP-01 is still ACTIVADO and linked, no event was written.
      await net.waitState("CP-01", "ACTIVADO");
      const eventsAfter = query(
        net.db,
        (d) => d.prepare("SELECT count(*) AS n FROM events").get(),
      ) as Row;
      assert.equal(eventsAfter.n, eventsBefore.n);
      assert.ok(!net.central.output.some((l) => /STATE CP-01 DESCONECTADO/.test(l)));
      // Logged once per link, not once per frame.
      const shapeLines = net.central.output.filter((l) =>
        /not valid UTF-8|not valid JSON|SELF_DESTRUCT/.test(l)
      );
      assert.equal(shapeLines.length, 1, shapeLines.join("\n"));

      // And the system still works.
      const driver = await s.driver("D1", ["CP-01"]);
      assert.equal((await driver.exit()).code, 0);
      assert.ok(driver.output.some((l) => /^AUTHORIZED at CP-01/.test(l)));
    }),
);

Deno.test(
  "the engine's health port: the same treatment; its monitor is not disturbed",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"]);
      const port = net.cps["CP-01"].enginePort;
      const garbage = await RawClient.connect(port);
      await garbage.send(utf8("\xff\xff\xff\xffhello"));
      await garbage.waitFrame(isError(/exceeds the maximum/));
      assert.ok(await garbage.closedWithin(2000));

      const wrong = await RawClient.connect(port);
      await wrong.sendFrame({ type: "HEALTH_CHECK", cp_id: 7, seq: 1 });
      await wrong.waitFrame(isError(/field "cp_id"/));
      await wrong.sendFrame({ type: "HEALTH_CHECK", cp_id: "CP-02", seq: 1 });
      await wrong.waitFrame(isError(/no valid pairing proof for CP-02/));
      assert.ok(await wrong.closedWithin(2000), "an unpaired check closes the link");

      const paired = await RawClient.connect(port);
      const pair02 = await s.pairingProof(port, "CP-02");
      await paired.sendFrame({ type: "HEALTH_CHECK", cp_id: "CP-02", seq: 1, pair: pair02 });
      await paired.waitFrame(isError(/belongs to another CP, not CP-02/));
      assert.ok(await paired.closedWithin(2000), "a check for another CP closes the link");

      const right = await RawClient.connect(port);
      const pair01 = await s.pairingProof(port, "CP-01");
      await right.sendFrame({ type: "HEALTH_CHECK", cp_id: "CP-01", seq: 9, pair: pair01 });
      await right.waitFrame((f) => (f as { type: string; seq: number }).type === "HEALTH");
      right.close();
      await net.waitState("CP-01", "ACTIVADO");
      assert.ok(!net.central.output.some((l) => /CP-01 averia/.test(l)), "no false AVERIA");
    }),
);

Deno.test(
  "issue 16, finding 2: one stranger's check cannot make a restarted engine another CP's",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"]);
      const { enginePort, monitor, engine } = net.cps["CP-01"];
      await monitor.stop();
      await engine.stop();
      await s.engine(enginePort, [], "engine CP-01 again");
      const stranger = await RawClient.connect(enginePort);
      await stranger.sendFrame({ type: "HEALTH_CHECK", cp_id: "EVIL-CP", seq: 1 });
      await stranger.waitFrame(isError(/no valid pairing proof for EVIL-CP/));
      assert.ok(await stranger.closedWithin(2000));
      const again = await s.monitor(enginePort, net.centralPort, "CP-01");
      await net.waitState("CP-01", "ACTIVADO", 15_000);
      assert.ok(
        !again.output.some((l) => /belongs to another CP/.test(l)),
        "the real monitor is not refused",
      );
    }),
);

Deno.test(
  "issue 16, finding 3: a forged reading with the real ids changes nothing and stales nothing, " +
    "signed with the CP's own key it is still held to what the CP can deliver",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "15"] });
      const driver = await s.driver("D1", ["CP-01"]);
      await driver.waitFor(/^CHARGING CP-01: 0\.0[2-9]/);
      const session = query(net.db, (d) => d.prepare("SELECT * FROM sessions").get()) as Row;
      const forged = () =>
        JSON.stringify({
          type: "TELEMETRY",
          id: crypto.randomUUID(),
          ts: Date.now(),
          cp_id: "CP-01",
          driver_id: "D1",
          session_id: session.session_id,
          consumo_kwh: 1000,
          importe_eur: 0.5,
          seq: 9_000_000_000,
        });
      // From anyone who can write to Kafka: no code under CP-01's key.
      await s.produceRaw("telemetry_topic", [{ key: "CP-01", value: forged() }], "forger");
      await net.central.waitFor(
        /dropped 1 telemetry record\(s\) without a valid authentication code \(last: CP-01 .*: no authentication code\)/,
      );
      // From someone holding CP-01's key (a stolen CP): signed, but not what a CP can do.
      const value = forged();
      const headers = await signedAs(net.db, "CP-01", value);
      await s.produceRaw("telemetry_topic", [{ key: "CP-01", value, headers }], "forger");
      await net.central.waitFor(/telemetry for CP-01 dropped: seq 9000000000/);
      // The real readings go on being applied, and the charge ends as the engine says.
      const ticket = await driver.waitFor(/^TICKET CP-01: ENDED \(COMPLETED\)/, 30_000);
      const row = query(net.db, (d) => d.prepare("SELECT * FROM sessions").get()) as Row;
      assert.equal(row.status, "ENDED", ticket);
      assert.equal(row.end_reason, "COMPLETED");
      assert.ok((row.consumo_kwh as number) < 1, `${row.consumo_kwh} kWh stored`);
      const m = await net.metrics();
      assert.equal(m.unauthenticated, 1);
    }),
);

Deno.test(
  "Kafka: malformed, forged, duplicated and reordered messages are skipped, never applied",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01", "CP-02"], { engineArgs: ["--duration", "30"] });
      const driver = await s.driver("D1", ["CP-01"]);
      await driver.waitFor(/^CHARGING CP-01: 0\.0[2-9]/);
      const before = await net.metrics();
      const session = query(net.db, (d) => d.prepare("SELECT * FROM sessions").get()) as Row;
      const now = Date.now();
      const telemetry = (extra: Row) =>
        JSON.stringify({
          type: "TELEMETRY",
          id: crypto.randomUUID(),
          ts: now,
          cp_id: "CP-01",
          driver_id: "D1",
          session_id: session.session_id,
          consumo_kwh: 0.001,
          importe_eur: 0.0001,
          seq: 1,
          ...extra,
        });
      // Not messages: each is skipped with a line and counted as invalid.
      const invalid = [
        ...[
          "not json",
          "{}",
          '{"driver_id":"D2"}',
          '{"driver_id":5,"cp_id_solicitado":"CP-01"}',
          "[]",
          "null",
        ].map((value) => ({ topic: "requests_topic" as const, value })),
        ...[
          telemetry({ consumo_kwh: -5 }),
          telemetry({ consumo_kwh: "lots" }),
          telemetry({ type: "SUPPLY_END", reason: "NOT_A_REASON" }),
        ].map((value) => ({ topic: "telemetry_topic" as const, value })),
      ];
      // Messages, but not the running session's, or stale, or going backwards: ignored.
      const ignored = [
        telemetry({ seq: 1 }), // stale: older than what was applied
        telemetry({ seq: 1_000_000, consumo_kwh: 0.0001 }), // decreasing kWh
        telemetry({ seq: 1_000_000, consumo_kwh: 999, cp_id: "CP-02" }), // no session there
        telemetry({ seq: 1_000_000, consumo_kwh: 999, driver_id: "MALLORY" }), // wrong driver
        telemetry({ seq: 1_000_000, consumo_kwh: 999, session_id: "not-a-session" }),
        telemetry({ type: "SUPPLY_END", reason: "COMPLETED", driver_id: "MALLORY" }), // forged end
        telemetry({ type: "SUPPLY_END", reason: "COMPLETED", session_id: "someone-else" }),
      ];
      for (const topic of ["requests_topic", "telemetry_topic"] as const) {
        const values = invalid.filter((m) => m.topic === topic).map(({ value }) => ({ value }));
        await s.produceRaw(topic, values, "hostile");
      }
      // Signed with the key of the CP they name (a CP that holds its key but lies): the
      // rules hold them. The same unsigned: dropped before the rules.
      const signed = await Promise.all(ignored.map(async (value) => ({
        value,
        headers: await signedAs(net.db, JSON.parse(value).cp_id, value),
      })));
      await s.produceRaw("telemetry_topic", signed, "hostile");
      await s.produceRaw("telemetry_topic", ignored.map((value) => ({ value })), "hostile");
      const counted = await countersGrown(net, before, {
        invalid: invalid.length,
        ignored: ignored.length,
        unauthenticated: ignored.length,
      });
      assert.equal(counted.invalid, invalid.length, "only the hostile records were not messages");
      assert.equal(counted.unauthenticated, ignored.length, "only the unsigned copies");
      await driver.waitFor(/^CHARGING CP-01/, 5000, driver.mark());
      const after = query(net.db, (d) => d.prepare("SELECT * FROM sessions").all()) as Row[];
      assert.equal(after.length, 1);
      assert.equal(after[0].status, "RUNNING", "the forged ends did not close the session");
      assert.ok((after[0].consumo_kwh as number) >= (session.consumo_kwh as number));
      assert.ok((after[0].consumo_kwh as number) < 1, "forged kWh never applied");
      await net.cps["CP-01"].engine.type("unplug");
      await driver.waitFor(/^TICKET CP-01: ENDED \(UNPLUGGED\)/);
    }),
);
