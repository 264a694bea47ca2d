import assert from "node:assert/strict";
import { cpView } from "./views.ts";
import type { ChargingPoint } from "./rules.ts";

Deno.test("a CP's view carries kWh and € to 3 decimals, without float noise", () => {
  const cp: ChargingPoint = {
    cp_id: "CP-01",
    location: "C/Italia 5",
    price_eur_kwh: 0.5,
    link: "up",
    health: "OK",
    stopped: false,
    session: {
      session_id: "s",
      request_id: "r",
      cp_id: "CP-01",
      driver_id: "D1",
      price_eur_kwh: 0.5,
      started_at: 1_000,
      // As a session stored before the money rule, or from an engine without it, holds them.
      consumo_kwh: 0.243055,
      importe_eur: 0.12152769999999999,
      last_seq: 17,
      last_seen_at: 2_000,
    },
  };
  const view = cpView(cp);
  assert.deepEqual(view.session, {
    session_id: "s",
    driver_id: "D1",
    consumo_kwh: 0.243,
    importe_eur: 0.122,
    started_at: 1_000,
  });
  assert.match(JSON.stringify(view), /"consumo_kwh":0.243,"importe_eur":0.122,/);
});

Deno.test("a CP with unsettled sessions lists them, with Central's provisional figures", () => {
  const cp: ChargingPoint = {
    cp_id: "CP-01",
    location: "C/Italia 5",
    price_eur_kwh: 0.5,
    link: "up",
    health: "OK",
    stopped: false,
    unsettled: [{
      session_id: "s1",
      request_id: "r1",
      cp_id: "CP-01",
      driver_id: "D1",
      price_eur_kwh: 0.5,
      started_at: 1_000,
      consumo_kwh: 0.111,
      importe_eur: 0.056,
      reason: "TELEMETRY_TIMEOUT",
      ended_at: 9_000,
    }],
  };
  const view = cpView(cp);
  assert.equal(view.state, "ACTIVADO");
  assert.deepEqual(view.unsettled, [{
    session_id: "s1",
    driver_id: "D1",
    reason: "TELEMETRY_TIMEOUT",
    consumo_kwh: 0.111,
    importe_eur: 0.056,
  }]);
  assert.deepEqual(cpView({ ...cp, unsettled: undefined }).unsettled, [], "none: an empty list");
});
