/**
 * The one rule for the energy and money a person reads: kWh and € to 3 decimals, rounded half
 * away from zero on the number's decimal digits, and € = kWh (already rounded) × price,
 * computed exactly in decimal and then rounded. The engine, Central and the driver all go
 * through here, so a ticket's € is reproducible by hand from its kWh and price.
 *
 * Decimal, not binary: `Math.round(x * 1000) / 1000` turns 0.5005 into 0.5 (0.5005 × 1000 is
 * 500.49999… in binary), `(1.0005).toFixed(3)` is "1.000", and 0.1 + 0.2 is
 * 0.30000000000000004. Here a number is
 * taken as the decimal JavaScript prints for it (the shortest that reads back the same),
 * scaled to a BigInt and rounded there; the result is the double nearest to a 3-decimal
 * value, which prints and serializes to JSON with at most 3 decimals.
 *
 * @module
 */

/** Decimals kept for kWh and €. */
export const DECIMALS = 3;

/** A decimal number: `coefficient × 10^exponent`. */
interface Decimal {
  coefficient: bigint;
  exponent: number;
}

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/** The decimal JavaScript prints for `x`; throws a RangeError for NaN and ±Infinity. */
function decimalOf(x: number, what: string): Decimal {
  if (!Number.isFinite(x)) throw new RangeError(`${what} must be a finite number, not ${x}`);
  const [, sign, whole, fraction = "", exp = "0"] = NUMBER.exec(String(x))!;
  return {
    coefficient: BigInt(`${sign}${whole}${fraction}`),
    exponent: Number(exp) - fraction.length,
  };
}

/** `d` to {@link DECIMALS} decimals, halves away from zero, as the nearest double. */
function rounded(d: Decimal): number {
  const shift = d.exponent + DECIMALS;
  let units: bigint;
  if (shift >= 0) {
    units = d.coefficient * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    const negative = d.coefficient < 0n;
    const magnitude = negative ? -d.coefficient : d.coefficient;
    const up = 2n * (magnitude % divisor) >= divisor ? 1n : 0n;
    units = (magnitude / divisor + up) * (negative ? -1n : 1n);
  }
  // Parsing a decimal string gives the double nearest to it: no binary step in between.
  return Number(`${units}e-${DECIMALS}`) + 0; // + 0 turns -0 into 0
}

const SCALE = 10 ** DECIMALS;

/** `x` to {@link DECIMALS} decimals; `what` names it in the error for NaN and ±Infinity. */
function round(x: number, what: string): number {
  // Most values are rounded already (readings, stored sessions, every view of them): when x
  // is the double nearest to units / 1000, that is the answer, without the decimal detour.
  const units = Math.round(x * SCALE);
  if (units / SCALE === x && Number.isFinite(x)) return x + 0;
  return rounded(decimalOf(x, what));
}

/** `x` rounded to 3 decimals (halves away from zero): the kWh a person reads and pays for. */
export function roundKwh(x: number): number {
  return round(x, "kWh");
}

/** `x` rounded to 3 decimals (halves away from zero): an amount in €. */
export function roundEur(x: number): number {
  return round(x, "€");
}

/**
 * The amount to bill for `kwh` at `priceEurKwh` €/kWh: `roundKwh(kwh) × price`, multiplied
 * exactly in decimal, then rounded to 3 decimals (halves away from zero).
 */
export function amountFor(kwh: number, priceEurKwh: number): number {
  const energy = decimalOf(roundKwh(kwh), "kWh");
  const price = decimalOf(priceEurKwh, "price");
  return rounded({
    coefficient: energy.coefficient * price.coefficient,
    exponent: energy.exponent + price.exponent,
  });
}

/** `kwh` as shown to people: rounded by {@link roundKwh}, always 3 decimals ("1.500"). */
export function formatKwh(kwh: number): string {
  return roundKwh(kwh).toFixed(DECIMALS);
}

/** An amount in € as shown to people: rounded by {@link roundEur}, always 3 decimals. */
export function formatEur(eur: number): string {
  return roundEur(eur).toFixed(DECIMALS);
}
