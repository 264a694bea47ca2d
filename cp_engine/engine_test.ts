import assert from "node:assert/strict";
import { stamp } from "../shared/protocol/messages.ts";
import { Engine } from "./engine.ts";
import { Supply } from "./supply.ts";

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
