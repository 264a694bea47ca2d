/**
 * Whether what an engine reports can be true, whoever sent it: telemetry on Kafka can be
 * written by anyone who reaches the broker, with the ids of a running session read off
 * control_topic. A reading that fails these checks changes nothing — in particular its
 * sequence number cannot make the real readings stale.
 *
 * The bounds, from the session's own facts (so they hold across outages and restarts):
 * - seq counts the seconds of supply: never more than the seconds since the authorization
 *   (Central's clock at both ends) plus {@link SEQ_SLACK};
 * - kWh never more than {@link MAX_POWER_KW} (the most an engine can be set to) over those
 *   seconds of supply;
 * - € is amountFor(kWh, the authorization's price), as every engine computes it, within
 *   {@link EUR_TOLERANCE} (Central bills by kWh itself: € only tells a forgery).
 *
 * @module
 */
import { amountFor } from "../shared/protocol/money.ts";

/** The most power an engine may be set to (`EV_CP_E --power`, kW). */
export const MAX_POWER_KW = 1000;
/** How far a reading's € may be from amountFor(its kWh, the price). */
export const EUR_TOLERANCE = 0.01;
/** Seconds of supply a reading may count beyond the seconds since its authorization. */
export const SEQ_SLACK = 5;

/** What a reading claims, and the terms of its session. */
export interface Reading {
  seq: number;
  consumo_kwh: number;
  importe_eur: number;
}

/** Why a reading of a session authorized at `startedAt` at `price` cannot be true, or undefined. */
export function implausible(
  r: Reading,
  startedAt: number,
  price: number,
  now: number,
): string | undefined {
  const seconds = Math.max(0, (now - startedAt) / 1000);
  if (r.seq > seconds + SEQ_SLACK) {
    return `seq ${r.seq} is more seconds of supply than the ${Math.floor(seconds)} s since ` +
      "its authorization";
  }
  const maxKwh = (MAX_POWER_KW * r.seq) / 3600 + 0.001;
  if (r.consumo_kwh > maxKwh) {
    return `${r.consumo_kwh} kWh in ${r.seq} s is more than ${MAX_POWER_KW} kW`;
  }
  // A float product is close enough for a cent's tolerance, and cheap at 10,000 readings a
  // second; the exact rule only words the refusal.
  if (Math.abs(r.importe_eur - r.consumo_kwh * price) > EUR_TOLERANCE) {
    const due = amountFor(r.consumo_kwh, price);
    return `${r.importe_eur} € for ${r.consumo_kwh} kWh at ${price} €/kWh (due: ${due} €)`;
  }
  return undefined;
}
