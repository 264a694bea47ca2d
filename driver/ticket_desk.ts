/**
 * The driver's tickets, one session at a time: a provisional ticket (Central closed the
 * session without the engine's word) may come first, and the final one settles it, whenever
 * it comes; repeats (the same message again, the same final ticket again, a provisional one
 * after the final) are told apart so each ticket is shown once.
 *
 * @module
 */
import type { Ticket } from "../shared/protocol/messages.ts";

/** What a received ticket is to the driver. */
export type TicketNews =
  /** The first ticket of its session (provisional or final). */
  | "new"
  /** The final ticket of a session that had only a provisional one. */
  | "settled"
  /** Nothing new: shown already. */
  | "duplicate";

/** Tickets by session, and which of them are still provisional. */
export class TicketDesk {
  readonly #ids = new Set<string>();
  readonly #bySession = new Map<string, Ticket>();

  /** Files a ticket and says what it is. */
  receive(t: Ticket): TicketNews {
    if (this.#ids.has(t.id)) return "duplicate";
    this.#ids.add(t.id);
    const had = this.#bySession.get(t.session_id);
    if (!had) {
      this.#bySession.set(t.session_id, t);
      return "new";
    }
    // Only the engine's figures replace Central's provisional ones; nothing replaces a final.
    if (had.provisional && !t.provisional) {
      this.#bySession.set(t.session_id, t);
      return "settled";
    }
    return "duplicate";
  }

  /** The session's ticket that counts: the final one if it came, else the provisional one. */
  latest(sessionId: string): Ticket | undefined {
    return this.#bySession.get(sessionId);
  }

  /** How many sessions have only a provisional ticket. */
  unsettled(): number {
    let n = 0;
    for (const t of this.#bySession.values()) if (t.provisional) n++;
    return n;
  }
}
