/**
 * What the driver does with each message it reads. Its consumer group resumes where its last
 * run stopped, so besides this run's traffic it reads what was sent to this driver id while it
 * was away: the tickets of earlier runs' charges are its business (shown and saved, I3), their
 * answers (AUTHORIZED/DENIED) are not.
 *
 * @module
 */
import type { ControlMessage, TelemetryMessage } from "../shared/protocol/messages.ts";

/** Where a message goes. */
export type Sorted =
  /** A ticket of one of this run's requests. */
  | "ticket"
  /** A ticket for this driver id of a request this run never made: an earlier run's charge. */
  | "earlier ticket"
  /** For the charge flow, which waits for it by request or session id. */
  | "flow"
  /** Not this driver's business. */
  | "drop";

/** Sorts `m` for driver `driverId`, whose requests of this run are `requested`. */
export function sortMessage(
  m: ControlMessage | TelemetryMessage,
  driverId: string,
  requested: ReadonlySet<string>,
): Sorted {
  if (!("driver_id" in m) || m.driver_id !== driverId) return "drop";
  switch (m.type) {
    case "TICKET":
      return requested.has(m.request_id) ? "ticket" : "earlier ticket";
    // An earlier run's answer would only sit in the flow's inbox, unmatched.
    case "AUTHORIZED":
    case "DENIED":
      return requested.has(m.request_id) ? "flow" : "drop";
    case "TELEMETRY":
      return "flow";
    default:
      // Orders to engines and their ends name the driver too; they are not for it.
      return "drop";
  }
}
