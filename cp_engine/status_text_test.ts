import assert from "node:assert/strict";
import { stamp } from "../shared/protocol/messages.ts";
import { paint } from "../shared/term/colors.ts";
import { Engine } from "./engine.ts";
import { engineStatusText } from "./status_text.ts";

const KEYS = "   [f]ault on/off  [u]nplug  [q]uit";

function engine(): Engine {
  return new Engine({ powerKw: 36, durationS: 100, staleMs: 15_000 });
}

Deno.test("engine status: the CP and its state, in the state's color", () => {
  const e = engine();
  assert.equal(engineStatusText(e, false), paint("green", "(no CP yet) ESPERANDO_MONITOR"));
  e.claim("CP-01");
  assert.equal(engineStatusText(e, false), paint("green", "CP-01 ACTIVADO"));
  e.control(stamp({ type: "PARAR", cp_id: "CP-01" }), Date.now());
  assert.equal(engineStatusText(e, false), paint("orange", "CP-01 PARADO"));
  e.setFault(true);
  assert.equal(engineStatusText(e, false), paint("red", "CP-01 AVERIADO"));
});

Deno.test("engine status: a supply shows its driver, kWh and €; a terminal gets the keys", () => {
  const e = engine();
  e.claim("CP-01");
  e.control(
    stamp({
      type: "START_SUPPLY",
      cp_id: "CP-01",
      driver_id: "D1",
      session_id: "s1",
      request_id: "r1",
      price_eur_kwh: 0.4,
    }),
    Date.now(),
  );
  e.tick();
  e.tick();
  assert.equal(
    engineStatusText(e, false),
    paint("green", "CP-01 SUMINISTRANDO driver D1 0.020 kWh 0.008 €"),
  );
  assert.equal(
    engineStatusText(e, true),
    paint("green", "CP-01 SUMINISTRANDO driver D1 0.020 kWh 0.008 €") + KEYS,
  );
});

Deno.test("engine status: cut off from its monitor or Kafka, it says which and for how long", () => {
  const e = new Engine({ powerKw: 36, durationS: 100, staleMs: 15_000, autonomyMs: 10_000 });
  e.claim("CP-01");
  e.heard("monitor", 0);
  e.heard("kafka", 0);
  assert.equal(engineStatusText(e, false, 5000), paint("green", "CP-01 ACTIVADO"));
  assert.equal(
    engineStatusText(e, false, 12_000),
    paint("green", "CP-01 ACTIVADO") +
      paint("red", " CUT OFF: no health check from its monitor for 12 s"),
  );
});
