/**
 * The engine's status line: its CP, its state in the state's color, the supply in progress,
 * and why it counts itself cut off, if it does. End-to-end tests wait for these lines (e.g.
 * `STATUS CP-01 PARADO`).
 *
 * @module
 */
import { paint } from "../shared/term/colors.ts";
import type { Engine } from "./engine.ts";

/** The status line of `engine` at `now`; on a terminal it also lists the keys. */
export function engineStatusText(
  engine: Pick<Engine, "cpId" | "state" | "supply" | "isolation">,
  tty: boolean,
  now = Date.now(),
): string {
  const s = engine.supply;
  const r = s?.reading();
  const supply = s && r
    ? ` driver ${s.plan.driver_id} ${r.consumo_kwh.toFixed(3)} kWh ${r.importe_eur.toFixed(3)} €`
    : "";
  const state = engine.state;
  const color = state === "AVERIADO" ? "red" : state === "PARADO" ? "orange" : "green";
  const keys = tty ? "   [f]ault on/off  [u]nplug  [q]uit" : "";
  const cut = engine.isolation(now);
  const alone = cut ? paint("red", ` CUT OFF: ${cut}`) : "";
  return paint(color, `${engine.cpId ?? "(no CP yet)"} ${state}${supply}`) + alone + keys;
}
