import assert from "node:assert/strict";
import { Dashboard, renderBoard, stateText } from "./dashboard.ts";
import type { ChargingPoint } from "./rules.ts";

const cp = (id: string, extra: Partial<ChargingPoint> = {}): ChargingPoint => ({
  cp_id: id,
  location: "Avenida de la Constitución 123, Alicante",
  price_eur_kwh: 0.35,
  link: "up",
  health: "OK",
  stopped: false,
  ...extra,
});
const session = {
  session_id: "s",
  request_id: "r",
  cp_id: "CP-01",
  driver_id: "D-23",
  price_eur_kwh: 0.35,
  started_at: 0,
  consumo_kwh: 1.5,
  importe_eur: 0.525,
  last_seq: 3,
  last_seen_at: 0,
};

Deno.test("a supplying CP shows its driver, kWh and €", () => {
  assert.equal(
    stateText(cp("CP-01", { session })),
    "SUMINISTRANDO  driver D-23  1.500 kWh  0.525 €",
  );
  assert.match(stateText(cp("CP-01", { session, link: "down" })), /^DESCONECTADO {2}\(driver D-23/);
});

Deno.test("the board fits the terminal width and is plain without colors", () => {
  const cps = [
    cp("CP-01", { session }),
    cp("CP-02", { health: "KO" }),
    cp("CP-03", { stopped: true }),
  ];
  for (const width of [60, 80, 140]) {
    const lines = renderBoard(cps, width, false);
    for (const l of lines) assert.ok(l.length <= width, `${width}: ${l}`);
    assert.ok(!lines.join("").includes("\x1b["), "no escape codes");
    assert.match(lines[3], /CP-02 .* AVERIADO/);
    assert.match(lines[4], /CP-03 .* PARADO/);
  }
  assert.match(renderBoard(cps, 140, false)[2], /Avenida de la Constitución/);
});

Deno.test("an empty network says how to add a CP", () => {
  assert.match(renderBoard([], 80, false).join("\n"), /no charging points yet/);
});

Deno.test("a network larger than the screen is summed up above the rows that fit", () => {
  const cps = Array.from(
    { length: 1000 },
    (_, i) => cp(`CP-${String(i).padStart(4, "0")}`, i % 10 === 0 ? { health: "KO" } : {}),
  );
  const lines = renderBoard(cps, 100, false, 20);
  assert.equal(lines.length, 2 + 20, "summary + header + rule + 19 rows");
  assert.equal(lines[0], "1000 CPs: 900 ACTIVADO · 100 AVERIADO (981 not shown)");
  assert.match(lines.at(-1)!, /^CP-0018 /);
});

Deno.test("a dashboard stopped after a failed write prints what is pending but the hidden CPs", () => {
  const printed: string[] = [];
  const log = console.log;
  console.log = (line: string) => printed.push(line);
  try {
    const dashboard = new Dashboard("t", () => [cp("CP-01"), cp("CP-02")]);
    dashboard.changed();
    dashboard.stop({ hide: new Set(["CP-02"]) });
    dashboard.changed();
    assert.deepEqual(printed, ["STATE CP-01 ACTIVADO"], "CP-02's change was not stored");
  } finally {
    console.log = log;
  }
});

Deno.test("the console rounds kWh and € by the money rule, halves up", () => {
  // toFixed(3) alone shows 2.014 and 0.500: it rounds the binary value, 2.01449999…
  const s = { ...session, consumo_kwh: 2.0145, importe_eur: 0.5005 };
  assert.equal(
    stateText(cp("CP-01", { session: s })),
    "SUMINISTRANDO  driver D-23  2.015 kWh  0.501 €",
  );
});
