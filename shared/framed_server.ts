/**
 * A TCP server of {@link FramedConn} links: accepts until closed, runs one handler per
 * link, tracks open links and closes them all at shutdown.
 *
 * @module
 */
import { FramedConn } from "./framed_conn.ts";
import { FrameError } from "./framing.ts";
import { IoLag } from "./io_lag.ts";
import { errorText, type Logger } from "./log.ts";

/** Options of a {@link FramedServer}. */
export interface FramedServerOptions {
  /** Measure how late this process reads its sockets, for `serve`'s `ioLag`. */
  measureIoLag?: boolean;
  /**
   * Links served at once; more connections wait in the kernel's queue until one closes.
   * Each link is an open file: a process out of them cannot accept anything, and Deno's
   * HTTP server dies of it (denoland/deno#10148), so a herd of reconnecting monitors must
   * not take the last ones.
   */
  maxLinks?: number;
}

/** A listening server. */
export class FramedServer {
  readonly #listener: Deno.TcpListener;
  readonly #links = new Set<FramedConn>();
  readonly #maxLinks: number;
  #slotFreed?: () => void;
  #closed = false;
  #ioLag?: IoLag;

  /**
   * Listens on `hostname:port` (throws Deno.errors.AddrInUse etc.) and serves each link;
   * `serve` gets a reading of how late this process reads its sockets when `measureIoLag`.
   */
  constructor(
    port: number,
    hostname: string,
    readonly serve: (link: FramedConn, ioLag: () => number) => Promise<void>,
    readonly log: Logger,
    { measureIoLag = false, maxLinks = Infinity }: FramedServerOptions = {},
  ) {
    this.#maxLinks = maxLinks;
    this.#listener = Deno.listen({ port, hostname, transport: "tcp" });
    if (measureIoLag) {
      void IoLag.start().then((lag) => this.#closed ? lag.stop() : (this.#ioLag = lag));
    }
    void this.#accept();
  }

  /** Milliseconds by which this process reads its sockets late (0 when not measured). */
  ioLag(): number {
    return this.#ioLag?.current() ?? 0;
  }

  /** The port actually bound. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Links open now. */
  get links(): number {
    return this.#links.size;
  }

  async #accept(): Promise<void> {
    let full = false;
    while (!this.#closed) {
      if (this.#links.size >= this.#maxLinks) {
        if (!full) {
          this.log.warn(
            `${this.#links.size} links open, the most this process can hold: new connections ` +
              "wait until one closes (raise the open files limit, ulimit -n, to serve more)",
          );
        }
        full = true;
        await new Promise<void>((r) => (this.#slotFreed = r));
        continue;
      }
      full = false;
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
      this.serve(link, () => this.ioLag())
        .catch((e) => this.log.error(`${link.peer}: ${errorText(e)}`))
        .finally(() => {
          link.close();
          this.#links.delete(link);
          this.#slotFreed?.();
          this.#slotFreed = undefined;
        });
    }
  }

  /** Stops accepting and closes every link. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    this.#slotFreed?.();
    this.#ioLag?.stop();
    for (const link of this.#links) link.close();
  }
}

/** A timer, or a read, this late means our own process was stalled, not that the peer fell silent. */
const STALLED_MS = 250;

/**
 * A timer that closes a link when it falls silent; `arm()` again on every frame.
 *
 * Arming only moves a deadline: the one timer, when it fires early, sleeps again for what is
 * left. Ten thousand links beating every second would otherwise cost twenty thousand timer
 * operations a second.
 *
 * A timer that fires late has seen a stall of this process: the peer's frames may be waiting
 * unread in the socket. It then waits once more, as long as the stall lasted, before it
 * blames the peer; otherwise one busy second would drop every link at once, and the
 * reconnections would make the next second busier still. For the same reason it waits for
 * as long as `ioLag` says this process reads its sockets late.
 */
export function idleTimer(
  onIdle: () => void,
  ioLag: () => number = () => 0,
): { arm(ms: number): void; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let deadline = 0;
  let firesAt = 0;
  let forgiven = false;
  const schedule = (ms: number) => {
    clearTimeout(timer);
    firesAt = Date.now() + ms;
    timer = setTimeout(fire, ms);
  };
  const fire = () => {
    const now = Date.now();
    const left = deadline - now;
    if (left > 0) return schedule(left);
    const late = now - firesAt;
    if (late > STALLED_MS && !forgiven) {
      forgiven = true;
      return schedule(late);
    }
    const behind = ioLag();
    if (behind > STALLED_MS) return schedule(behind);
    timer = undefined;
    onIdle();
  };
  return {
    arm(ms) {
      deadline = Date.now() + ms;
      forgiven = false;
      if (timer === undefined || firesAt > deadline) schedule(ms);
    },
    clear() {
      clearTimeout(timer);
      timer = undefined;
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
