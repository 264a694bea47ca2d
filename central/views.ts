/**
 * The JSON shape of a CP for the HTTP API and the web panel. kWh and € go out rounded by the
 * money rule (shared/protocol/money.ts), so clients show them as they are.
 *
 * @module
 */
import type { EndReason } from "../shared/protocol/messages.ts";
import { roundEur, roundKwh } from "../shared/protocol/money.ts";
import { type ChargingPoint, type CpState, shownState } from "./rules.ts";

/** A CP as clients see it. */
export interface CpView {
  cp_id: string;
  location: string;
  price_eur_kwh: number;
  state: CpState;
  link: "up" | "down";
  health: "OK" | "KO";
  stopped: boolean;
  session: {
    session_id: string;
    driver_id: string;
    consumo_kwh: number;
    importe_eur: number;
    started_at: number;
  } | null;
  /**
   * Sessions Central closed without the engine's word, with its provisional figures: the CP
   * is not authorized (DENIED SETTLING) until the engine's end settles them. Empty: none.
   * (Always there in {@link cpView}'s answer; optional for views built by hand.)
   */
  unsettled?: {
    session_id: string;
    driver_id: string;
    reason: EndReason;
    consumo_kwh: number;
    importe_eur: number;
  }[];
}

/** The view of one CP. */
export function cpView(cp: ChargingPoint): CpView {
  const s = cp.session;
  return {
    cp_id: cp.cp_id,
    location: cp.location,
    price_eur_kwh: cp.price_eur_kwh,
    state: shownState(cp),
    link: cp.link,
    health: cp.health,
    stopped: cp.stopped,
    session: s
      ? {
        session_id: s.session_id,
        driver_id: s.driver_id,
        consumo_kwh: roundKwh(s.consumo_kwh),
        importe_eur: roundEur(s.importe_eur),
        started_at: s.started_at,
      }
      : null,
    unsettled: (cp.unsettled ?? []).map((u) => ({
      session_id: u.session_id,
      driver_id: u.driver_id,
      reason: u.reason,
      consumo_kwh: roundKwh(u.consumo_kwh),
      importe_eur: roundEur(u.importe_eur),
    })),
  };
}
