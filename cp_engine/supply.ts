/**
 * The engine's supply simulation, free of I/O: energy grows with the charger's power every
 * second, and readings follow the money rule (shared/protocol/money.ts): kWh to 3 decimals and
 * € = amountFor(kWh, price), so a ticket's € is reproducible from its kWh and price.
 *
 * @module
 */
import { amountFor, roundKwh } from "../shared/protocol/money.ts";

/** One authorized supply in progress. */
export interface SupplyPlan {
  session_id: string;
  driver_id: string;
  request_id: string;
  price_eur_kwh: number;
  /** Charger power in kW. */
  powerKw: number;
  /** How long the supply lasts if nothing ends it, in seconds. */
  durationS: number;
}

/** A reading of what has been delivered. */
export interface Reading {
  seq: number;
  consumo_kwh: number;
  importe_eur: number;
}

/** Advances a supply one second at a time. */
export class Supply {
  #seconds = 0;

  constructor(readonly plan: SupplyPlan) {}

  /** Seconds supplied so far. */
  get seconds(): number {
    return this.#seconds;
  }

  /** Whether the planned duration is over. */
  get complete(): boolean {
    return this.#seconds >= this.plan.durationS;
  }

  /** What has been delivered so far. */
  reading(): Reading {
    const kwh = roundKwh((this.plan.powerKw * this.#seconds) / 3600);
    return {
      seq: this.#seconds,
      consumo_kwh: kwh,
      importe_eur: amountFor(kwh, this.plan.price_eur_kwh),
    };
  }

  /** One more second of supply; returns the new reading. */
  tick(): Reading {
    if (!this.complete) this.#seconds++;
    return this.reading();
  }
}
