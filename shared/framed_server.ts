/**
 * A TCP server of {@link FramedConn} links: accepts until closed, runs one handler per
 * link, tracks open links and closes them all at shutdown.
 *
 * @module
 */
import { FramedConn } from "./framed_conn.ts";
import { FrameError } from "./framing.ts";
import { errorText, type Logger } from "./log.ts";

/** A listening server. */
export class FramedServer {
  readonly #listener: Deno.TcpListener;
  readonly #links = new Set<FramedConn>();
  #closed = false;

  /** Listens on `hostname:port` (throws Deno.errors.AddrInUse etc.) and serves each link. */
  constructor(
    port: number,
    hostname: string,
    readonly serve: (link: FramedConn) => Promise<void>,
    readonly log: Logger,
  ) {
    this.#listener = Deno.listen({ port, hostname, transport: "tcp" });
    void this.#accept();
  }

  /** The port actually bound. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  async #accept(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closed) return;
        this.log.warn(`accept failed: ${errorText(e)}`);
        await new Promise((r) => setTimeout(r, 100)); // e.g. out of file descriptors
        continue;
      }
      const link = new FramedConn(conn);
      this.#links.add(link);
      this.serve(link)
        .catch((e) => this.log.error(`${link.peer}: ${errorText(e)}`))
        .finally(() => {
          link.close();
          this.#links.delete(link);
        });
    }
  }

  /** Stops accepting and closes every link. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const link of this.#links) link.close();
  }
}

/** A timer that closes a link when it falls silent; `arm()` again on every frame. */
export function idleTimer(onIdle: () => void): { arm(ms: number): void; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    arm(ms) {
      clearTimeout(timer);
      timer = setTimeout(onIdle, ms);
    },
    clear() {
      clearTimeout(timer);
    },
  };
}

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
