import assert from "node:assert/strict";
import { amountFor, formatEur, formatKwh, roundEur, roundKwh } from "./money.ts";

Deno.test("roundKwh and roundEur: 3 decimals, halves away from zero, on the decimal digits", () => {
  const cases: [number, number][] = [
    [0.5005, 0.501], // Math.round(0.5005 * 1000) / 1000 gives 0.5: 500.4999… in binary
    [1.0005, 1.001], // (1.0005).toFixed(3) gives "1.000"
    [1.0015, 1.002],
    [2.675, 2.675],
    [0.0005, 0.001],
    [0.00049999, 0],
    [0.1 + 0.2, 0.3],
    [0.12152769999999999, 0.122],
    [4.0139999, 4.014],
    [1e-7, 0],
    [5e-4, 0.001],
    [0, 0],
    [7, 7],
    [-1.0005, -1.001],
    [1_000_000, 1_000_000], // the largest kWh the catalogue takes
    [999_999.9995, 1_000_000],
    [999_999.9994, 999_999.999],
    [9_999_999.9995, 10_000_000], // the largest € the catalogue takes
    [9_999_999.999, 9_999_999.999],
    [1e21, 1e21],
  ];
  for (const [x, want] of cases) {
    assert.equal(roundKwh(x), want, `roundKwh(${x})`);
    assert.equal(roundEur(x), want, `roundEur(${x})`);
  }
  assert.ok(Object.is(roundKwh(-0.0004), 0), "no -0 shown as -0.000");
});

Deno.test("a rounded value prints and serializes with at most 3 decimals", () => {
  for (let s = 0; s <= 7200; s++) {
    for (const kw of [7.4, 11, 22, 50, 150]) {
      const kwh = roundKwh((kw * s) / 3600);
      assert.match(JSON.stringify(kwh), /^\d+(\.\d{1,3})?$/, `${kw} kW × ${s} s`);
      assert.match(JSON.stringify(amountFor(kwh, 0.35)), /^\d+(\.\d{1,3})?$/);
    }
  }
});

Deno.test("amountFor: exact decimal product of the rounded kWh and the price, rounded", () => {
  const cases: [number, number, number][] = [
    [0.243055, 0.5, 0.122], // 0.243 × 0.5 = 0.1215; the float product was 0.12152769999999999
    [4.014, 0.5, 2.007],
    [1.005, 0.35, 0.352], // 0.35175
    [0.1 + 0.2, 0.1, 0.03],
    [0.0005, 0.35, 0], // 0.001 × 0.35 = 0.00035
    [0.002, 0.25, 0.001], // 0.0005: a half, up
    [1.5, 0.123456789, 0.185], // 0.1851851835
    [3, 0, 0],
    [0, 100, 0],
    [1_000_000, 100, 100_000_000], // both catalogue maxima
    [999_999.999, 99.999, 99_998_999.900], // 99998999.900001
  ];
  for (const [kwh, price, want] of cases) {
    assert.equal(amountFor(kwh, price), want, `amountFor(${kwh}, ${price})`);
  }
});

Deno.test("amountFor agrees with integer arithmetic on random kWh and prices", () => {
  for (let i = 0; i < 20_000; i++) {
    const milliKwh = BigInt(Math.floor(Math.random() * 1e9)); // up to 1,000,000 kWh
    const tenThousandthsEur = BigInt(Math.floor(Math.random() * 1e6)); // up to 100 €/kWh
    // kWh × price in units of 1e-7 €; to 1e-3 € is ÷ 10^4, halves up.
    const product = milliKwh * tenThousandthsEur;
    const milliEur = product / 10_000n + (product % 10_000n >= 5_000n ? 1n : 0n);
    const kwh = Number(milliKwh) / 1000;
    const price = Number(tenThousandthsEur) / 10_000;
    assert.equal(amountFor(kwh, price), Number(milliEur) / 1000, `amountFor(${kwh}, ${price})`);
  }
});

Deno.test("a ticket's € is reproducible from its own kWh and price", () => {
  for (let s = 0; s <= 3600; s += 7) {
    const kwh = roundKwh((50 * s) / 3600);
    const eur = amountFor(kwh, 0.37);
    assert.equal(roundKwh(kwh), kwh, "rounding twice changes nothing");
    assert.equal(roundEur(eur), eur);
    assert.equal(amountFor(kwh, 0.37), eur);
  }
});

Deno.test("formatKwh and formatEur: always 3 decimals, through the same rounding", () => {
  assert.equal(formatKwh(0), "0.000");
  assert.equal(formatKwh(1.5), "1.500");
  assert.equal(formatKwh(1.0005), "1.001");
  assert.equal(formatKwh(2.0145), "2.015"); // toFixed alone: "2.014"
  assert.equal(formatEur(0.1 + 0.2), "0.300");
  assert.equal(formatEur(0.12152769999999999), "0.122");
  assert.equal(formatKwh(1_000_000), "1000000.000");
  assert.equal(formatEur(9_999_999.9995), "10000000.000");
});

Deno.test("NaN and infinities are refused with a one-line error", () => {
  assert.throws(() => roundKwh(NaN), {
    name: "RangeError",
    message: "kWh must be a finite number, not NaN",
  });
  assert.throws(() => roundEur(Infinity), { message: "€ must be a finite number, not Infinity" });
  assert.throws(() => amountFor(1, -Infinity), {
    message: "price must be a finite number, not -Infinity",
  });
  assert.throws(() => formatKwh(NaN), RangeError);
});
