/**
 * What the monitor tells its operator: the status line, and the log line of a change of
 * the engine's health. End-to-end tests wait for these texts (e.g. `linked to Central`,
 * `AVERIA: engine answers KO (sent to Central)`).
 *
 * @module
 */
import type { Health } from "../shared/protocol/messages.ts";
import { paint } from "../shared/term/colors.ts";

/** What the status line shows. */
export interface MonitorView {
  cpId: string;
  /** The engine's last health; none before the first check. */
  health?: Health;
  /** Why the engine is KO. */
  detail: string;
  /** Whether Central has accepted the registration. */
  registered: boolean;
  /** What the link is doing while not registered. */
  linkText: string;
  /** The address of the Central the link is on (host:port): the one linked, or tried. */
  central: string;
  /** The time of the last check, or "" before the first. */
  lastCheck: string;
  /** Whether the status line redraws in place on a terminal. */
  tty: boolean;
}

/** The monitor's status line. */
export function monitorStatusText(v: MonitorView): string {
  const h = v.health === "OK"
    ? paint("green", "engine OK")
    : paint("red", `engine KO (${v.detail})`);
  const l = v.registered
    ? paint("green", `linked to Central at ${v.central}`)
    : paint("gray", v.linkText);
  const keys = v.tty ? "   [p]arar [a]ctivar [s]uministrar [q]uit" : "";
  // The time of the last check changes every second: shown only where it redraws in place.
  const when = v.tty && v.lastCheck ? `, checked ${v.lastCheck}` : "";
  return `${v.cpId}: ${l}, ${h}${when}${keys}`;
}

/** A line for the log. */
export interface LogLine {
  level: "info" | "warn";
  text: string;
}

/**
 * The log line for the engine's health turning from `before` to `after` (a different one),
 * or none: a first OK is no news. `registered` says whether Central is told at once.
 */
export function healthChangeLine(
  before: Health | undefined,
  after: Health,
  detail: string,
  registered: boolean,
): LogLine | undefined {
  if (after === "KO") {
    return { level: "warn", text: `AVERIA: ${detail}${registered ? " (sent to Central)" : ""}` };
  }
  if (before === undefined) return undefined;
  return { level: "info", text: `engine recovered${registered ? ": OK sent to Central" : ""}` };
}
