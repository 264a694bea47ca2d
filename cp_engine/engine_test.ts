import assert from "node:assert/strict";
import { stamp } from "../shared/protocol/messages.ts";
import { Engine } from "./engine.ts";
import { Supply } from "./supply.ts";
import { replay, serializeLine } from "./meter_record.ts";

const now = Date.now();
const start = (cp = "CP-01", ts = now) =>
  stamp({
    type: "START_SUPPLY",
    cp_id: cp,
    driver_id: "D1",
    session_id: "s1",
    request_id: "r1",
    price_eur_kwh: 0.4,
  }, ts);

function engine(durationS = 3): Engine {
  const e = new Engine({ powerKw: 36, durationS, staleMs: 15_000 });
  e.claim("CP-01");
  return e;
}

Deno.test("supply: 36 kW gives 0.01 kWh a second and € is always kWh × price", () => {
  const s = new Supply({
    session_id: "s",
    driver_id: "d",
    request_id: "r",
    price_eur_kwh: 0.4,
    powerKw: 36,
    durationS: 2,
  });
  assert.deepEqual(s.tick(), { seq: 1, consumo_kwh: 0.01, importe_eur: 0.004 });
  s.tick();
  assert.ok(s.complete);
  assert.equal(s.tick().seq, 2, "no energy past the planned duration");
});

Deno.test("engine supplies on authorization and ends with SUPPLY_END after its duration", () => {
  const e = engine(3);
  e.control(start(), now);
  assert.equal(e.state, "SUMINISTRANDO");
  const out = [...e.tick(), ...e.tick(), ...e.tick()];
  assert.deepEqual(out.map((m) => m.type), ["TELEMETRY", "TELEMETRY", "TELEMETRY", "SUPPLY_END"]);
  const end = out[3];
  assert.ok(end.type === "SUPPLY_END" && end.reason === "COMPLETED");
  assert.equal(end.consumo_kwh, 0.03);
  assert.equal(e.state, "ACTIVADO");
});

Deno.test("orders for another CP and stale orders are ignored", () => {
  const e = engine();
  e.control(start("CP-02"), now);
  e.control(start("CP-01", now - 60_000), now);
  assert.equal(e.state, "ACTIVADO");
});

Deno.test("PARAR stops the supply and shows PARADO; REANUDAR shows ACTIVADO", () => {
  const e = engine(100);
  e.control(start(), now);
  e.tick();
  const out = e.control(stamp({ type: "PARAR", cp_id: "CP-01" }), now);
  assert.ok(out[0].type === "SUPPLY_END" && out[0].reason === "PARAR");
  assert.equal(e.state, "PARADO");
  e.control(stamp({ type: "REANUDAR", cp_id: "CP-01" }), now);
  assert.equal(e.state, "ACTIVADO");
});

Deno.test("a fault answers KO and ends the supply; unplug ends it normally", () => {
  const e = engine(100);
  e.control(start(), now);
  const out = e.setFault(true);
  assert.ok(out[0].type === "SUPPLY_END" && out[0].reason === "AVERIA");
  assert.equal(e.health(), "KO");
  e.setFault(false);
  e.control({ ...start(), session_id: "s2" }, now);
  e.tick();
  const end = e.unplug();
  assert.ok(end[0].type === "SUPPLY_END" && end[0].reason === "UNPLUGGED");
});

Deno.test("an engine serves the first CP id it is told, and only that one", () => {
  const e = new Engine({ powerKw: 1, durationS: 1, staleMs: 1 });
  assert.equal(e.state, "ESPERANDO_MONITOR");
  assert.ok(e.claim("CP-01"));
  assert.ok(!e.claim("CP-02"));
});

// ---------------------------------------------------------------------------
// The record (I1) and one owner (I2)

const stop = (session_id: string, ts = now) =>
  stamp({ type: "STOP_SUPPLY", cp_id: "CP-01", session_id, reason: "DRIVER_CANCELLED" }, ts);
const ack = (session_id: string) => stamp({ type: "SUPPLY_END_ACK", cp_id: "CP-01", session_id });

Deno.test("every reading and end is recorded before it is sent, and the record backs it", () => {
  const e = engine(2);
  const started = e.handle(start(), now);
  assert.deepEqual(started.send, []);
  assert.deepEqual(started.record, [{
    kind: "start",
    session_id: "s1",
    cp_id: "CP-01",
    driver_id: "D1",
    price_eur_kwh: 0.4,
    at: now,
  }]);
  const first = e.second(now + 1000);
  assert.deepEqual(first.record.map((l) => l.kind), ["meter"]);
  const last = e.second(now + 2000);
  assert.deepEqual(last.record.map((l) => l.kind), ["meter", "end"]);
  const end = last.record[1];
  assert.ok(end.kind === "end" && end.reason === "COMPLETED" && end.consumo_kwh === 0.02);
  assert.equal(end.importe_eur, 0.008);
});

Deno.test("an end is sent again until Central acknowledges it, then recorded as acked", () => {
  const e = engine(1);
  e.handle(start(), now);
  e.second(now);
  assert.deepEqual(e.unackedEnds(now).map((m) => [m.type, m.session_id]), [["SUPPLY_END", "s1"]]);
  const acked = e.handle(ack("s1"), now);
  assert.deepEqual(acked.record.map((l) => [l.kind, l.session_id]), [["acked", "s1"]]);
  assert.deepEqual(e.unackedEnds(now), []);
  assert.deepEqual(e.handle(ack("s1"), now).record, [], "a second ack changes nothing");
});

Deno.test("a START_SUPPLY for a session in the record is ignored, even after a restart", () => {
  const e = engine(1);
  const record = [...e.handle(start(), now).record, ...e.second(now).record];
  e.handle(start(), now);
  assert.equal(e.state, "ACTIVADO");
  const restarted = engine(1);
  restarted.restore(replay(record.map(serializeLine).join("")), now);
  restarted.handle(start(), now);
  assert.equal(restarted.state, "ACTIVADO");
});

Deno.test("STOP_SUPPLY for a session never had: a NOT_SUPPLIED end, and it never starts", () => {
  const e = engine(10);
  const out = e.handle(stop("s1"), now);
  const end = out.send[0];
  assert.ok(end?.type === "SUPPLY_END", "an end of supply is sent");
  assert.equal(end.reason, "NOT_SUPPLIED");
  assert.equal(end.consumo_kwh, 0);
  assert.equal(end.importe_eur, 0);
  assert.deepEqual(out.record.map((l) => l.kind), ["end"]);
  e.handle(start(), now);
  assert.equal(e.state, "ACTIVADO", "the refused session never starts afterwards");
});

Deno.test("the NOT_SUPPLIED end names the driver Central's STOP_SUPPLY names, so Central settles it", () => {
  const e = engine(10);
  const end = e.handle({ ...stop("s9"), driver_id: "D4" }, now).send[0];
  assert.ok(end?.type === "SUPPLY_END");
  assert.equal(end.driver_id, "D4");
});

Deno.test("STOP_SUPPLY for an ended session sends its end again, the same figures", () => {
  const e = engine(2);
  e.handle(start(), now);
  e.second(now);
  const first = e.unplugged(now);
  const again = e.handle(stop("s1"), now);
  assert.deepEqual(again.record, []);
  const [a, b] = [first.send[0], again.send[0]];
  assert.ok(a.type === "SUPPLY_END" && b?.type === "SUPPLY_END");
  assert.deepEqual([b.reason, b.consumo_kwh, b.ended_at], [a.reason, a.consumo_kwh, a.ended_at]);
});

Deno.test("restart: a start without an end ends ENGINE_RESTART at the last meter reading", () => {
  const e = engine(100);
  const record = e.handle(start(), now).record;
  for (let i = 1; i <= 5; i++) record.push(...e.second(now + i * 1000).record);
  const restarted = engine(100);
  const out = restarted.restore(replay(record.map(serializeLine).join("")), now + 60_000);
  const end = out.send[0];
  assert.ok(end?.type === "SUPPLY_END");
  assert.equal(end.reason, "ENGINE_RESTART");
  assert.equal(end.consumo_kwh, 0.05);
  assert.equal(end.importe_eur, 0.02);
  assert.equal(end.ended_at, now + 5000, "it ended when the meter last moved");
  assert.deepEqual(out.record.map((l) => l.kind), ["end"]);
  assert.equal(restarted.unackedEnds(now).length, 1, "and is sent again until acked");
});

Deno.test("restart: ends not acked are sent again; acked ones are not", () => {
  const e = engine(1);
  const record = [
    ...e.handle(start(), now).record,
    ...e.second(now).record,
    ...e.handle({ ...start(), session_id: "s2" }, now).record,
    ...e.second(now).record,
    ...e.handle(ack("s1"), now).record,
  ];
  const restarted = engine(1);
  const out = restarted.restore(replay(record.map(serializeLine).join("")), now);
  assert.deepEqual(out.record, []);
  assert.deepEqual(out.send.map((m) => m.session_id), ["s2"]);
});

Deno.test("autonomy: no health check for the autonomy time ends the supply CONNECTION_LOST", () => {
  const e = new Engine({ powerKw: 36, durationS: 100, staleMs: 15_000, autonomyMs: 10_000 });
  e.claim("CP-01");
  e.heard("monitor", now);
  e.heard("kafka", now);
  e.handle(start(), now);
  for (let t = 1; t <= 9; t++) {
    e.heard("kafka", now + t * 1000);
    assert.equal(e.second(now + t * 1000).send[0]?.type, "TELEMETRY");
  }
  e.heard("kafka", now + 10_500);
  const out = e.second(now + 10_500);
  const end = out.send.find((m) => m.type === "SUPPLY_END");
  assert.ok(end?.type === "SUPPLY_END" && end.reason === "CONNECTION_LOST");
  assert.equal(end.consumo_kwh, 0.09, "the seconds supplied, not the one it stopped in");
  assert.equal(e.isolation(now + 10_500), "no health check from its monitor for 10 s");
  e.handle({ ...start("CP-01", now + 10_500), session_id: "s2" }, now + 10_500);
  assert.equal(e.state, "ACTIVADO", "no new supply while cut off");
});

Deno.test("autonomy: no contact with Kafka for the autonomy time ends the supply", () => {
  const e = new Engine({ powerKw: 36, durationS: 100, staleMs: 15_000, autonomyMs: 10_000 });
  e.claim("CP-01");
  e.heard("kafka", now);
  e.handle(start(), now);
  for (let t = 1; t <= 11; t++) e.heard("monitor", now + t * 1000);
  const end = e.second(now + 11_000).send.find((m) => m.type === "SUPPLY_END");
  assert.ok(end?.type === "SUPPLY_END" && end.reason === "CONNECTION_LOST");
  assert.equal(e.isolation(now + 11_000), "no contact with Kafka for 11 s");
  e.heard("kafka", now + 12_000);
  assert.equal(e.isolation(now + 12_000), undefined);
});

Deno.test("after restore, orders older than the record are history and ignored", () => {
  const e = engine(10);
  e.restore(replay(""), now);
  assert.deepEqual(e.handle(stop("old", now - 16_000), now).send, []);
  assert.equal(e.handle(stop("new", now - 1000), now).send[0]?.type, "SUPPLY_END");
});
