import assert from "node:assert/strict";
import { implausible } from "./plausibility.ts";

const T0 = 1_800_000_000_000;

Deno.test("plausibility: a real reading passes", () => {
  // 50 kW for 10 s: 0.139 kWh, at 0.30 €/kWh.
  assert.equal(
    implausible({ seq: 10, consumo_kwh: 0.139, importe_eur: 0.042 }, T0, 0.3, T0 + 10_500),
    undefined,
  );
  assert.equal(
    implausible({ seq: 1, consumo_kwh: 0, importe_eur: 0 }, T0, 0.3, T0),
    undefined,
    "timer jitter",
  );
});

Deno.test("plausibility: issue 16's forged reading fails on every count", () => {
  const forged = { seq: 9_000_000_000, consumo_kwh: 1000, importe_eur: 0.5 };
  assert.match(implausible(forged, T0, 0.3, T0 + 6000)!, /seq 9000000000 is more seconds/);
  assert.match(
    implausible({ seq: 6, consumo_kwh: 1000, importe_eur: 300 }, T0, 0.3, T0 + 6000)!,
    /1000 kWh in 6 s is more than 1000 kW/,
  );
  assert.match(
    implausible({ seq: 6, consumo_kwh: 0.08, importe_eur: 0.5 }, T0, 0.3, T0 + 6000)!,
    /0.5 € for 0.08 kWh at 0.3 €\/kWh \(due: 0.024 €\)/,
  );
});

Deno.test("plausibility: bounds hold across an outage (late readings still pass)", () => {
  // Readings of the first minute arriving an hour later are as plausible as on time.
  assert.equal(
    implausible({ seq: 60, consumo_kwh: 0.833, importe_eur: 0.25 }, T0, 0.3, T0 + 3_600_000),
    undefined,
  );
});
