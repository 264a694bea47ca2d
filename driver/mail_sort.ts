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

/**
 * The ids of the latest messages read, to drop the second copy of one: the driver reads
 * control_topic twice, through its id's group and through this run's own. Bounded: an id
 * older than the latest `size` is forgotten (its copies come within a second or so).
 */
export class SeenIds {
  readonly #ids = new Set<string>();

  constructor(readonly size = 10_000) {}

  /** Whether `id` was seen before; remembers it. */
  seen(id: string): boolean {
    if (this.#ids.has(id)) return true;
    this.#ids.add(id);
    if (this.#ids.size > this.size) this.#ids.delete(this.#ids.values().next().value!);
    return false;
  }
}
