/**
 * How a server answers a peer that speaks the protocol badly: an ERROR frame each time, one
 * log line per link, and the link closed when the peer does not improve.
 *
 * @module
 */
import type { FramedConn } from "./framed_conn.ts";
import type { FrameError } from "../protocol/framing.ts";
import type { Logger } from "../process/log.ts";

/** Bad frames tolerated on one link before it is closed. */
export const MAX_PROTOCOL_ERRORS = 10;

/**
 * Answers a peer's protocol errors: each gets an ERROR frame, only the first of a link is
 * logged (a flood must not flood the log), and the link closes after
 * {@link MAX_PROTOCOL_ERRORS} of them or at once on a framing violation.
 */
export class ProtocolErrors {
  #count = 0;

  constructor(readonly link: FramedConn, readonly log: Logger) {}

  /** Reports one error; returns false when the link has been closed because of it. */
  async report(error: string, who: string = this.link.peer): Promise<boolean> {
    this.#count++;
    if (this.#count === 1) this.log.warn(`${who}: protocol error: ${error}`);
    await this.link.send({ type: "ERROR", message: error });
    if (this.#count < MAX_PROTOCOL_ERRORS) return true;
    this.log.warn(`${who}: ${this.#count} protocol errors; closing the link`);
    this.link.close();
    return false;
  }

  /** A framing violation: the byte stream cannot be trusted any more, so the link closes. */
  async fatal(e: FrameError, who: string = this.link.peer): Promise<void> {
    this.log.warn(`${who}: protocol error: ${e.message}; closing the link`);
    await this.link.send({ type: "ERROR", message: e.message });
    this.link.close();
  }
}
