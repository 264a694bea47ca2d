import assert from "node:assert/strict";
import { amountFor, roundKwh } from "../shared/protocol/money.ts";
import { Supply } from "./supply.ts";

Deno.test("supply readings: kWh to 3 decimals and € = amountFor(kWh, price), no float noise", () => {
  const s = new Supply({
    session_id: "s",
    driver_id: "d",
    request_id: "r",
    price_eur_kwh: 0.5,
    powerKw: 50,
    durationS: 600,
  });
  const seen: string[] = [];
  while (!s.complete) {
    const r = s.tick();
    assert.equal(r.consumo_kwh, roundKwh((50 * r.seq) / 3600), `kWh at second ${r.seq}`);
    assert.equal(r.importe_eur, amountFor(r.consumo_kwh, 0.5), `€ at second ${r.seq}`);
    seen.push(JSON.stringify(r));
  }
  // What crosses the wire: e.g. 0.243 kWh and 0.122 €, never 0.12152769999999999.
  for (const json of seen) {
    assert.doesNotMatch(json, /\d\.\d{4,}/, json);
  }
  assert.match(seen[17], /"consumo_kwh":0.25,"importe_eur":0.125/); // 50 kW × 18 s
});
