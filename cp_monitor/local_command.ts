/**
 * The operator's local commands at the CP (`parar`, `activar`, `suministrar [seconds]`),
 * checked and turned into the message for Central before anything is sent.
 *
 * @module
 */
import type { LocalCommand, LocalSupply } from "../shared/protocol/messages.ts";

/** A test supply started without a duration (the `s` key) lasts this long. */
export const KEY_SUPPLY_S = 10;

/** The message a local command sends to Central, or why it is not valid. */
export type LocalOrder = { message: LocalCommand | LocalSupply } | { error: string };

/** Turns `parar`, `activar` or `suministrar` and its argument into its message for Central. */
export function localOrder(command: string, argument: string): LocalOrder {
  if (command !== "suministrar") {
    return { message: { type: command === "parar" ? "PARAR" : "ACTIVAR" } };
  }
  const seconds = argument ? Number(argument) : KEY_SUPPLY_S;
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 86_400) {
    return { error: `suministrar needs a duration in seconds (1-86400), got "${argument}"` };
  }
  return { message: { type: "SUMINISTRAR", duration_s: seconds } };
}
