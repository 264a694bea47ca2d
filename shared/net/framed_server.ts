/**
 * A TCP server of {@link FramedConn} links: accepts until closed, runs one handler per
 * link, tracks open links and closes them all at shutdown.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { FramedConn } from "./framed_conn.ts";
import { IoLag } from "./io_lag.ts";
import { errorText, type Logger } from "../process/log.ts";

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
  /** Serve TLS with this certificate chain and key (PEM) instead of plain TCP. */
  tls?: { cert: string; key: string };
}

/** A listening server. */
export class FramedServer {
  readonly #listener: Deno.Listener;
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
    { measureIoLag = false, maxLinks = Infinity, tls }: FramedServerOptions = {},
  ) {
    this.#maxLinks = maxLinks;
    // A TLS link's handshake runs on its first read, in its own handler: a peer that never
    // completes one holds up nothing but its own link (and its registration timeout ends it).
    this.#listener = tls
      ? Deno.listenTls({ port, hostname, transport: "tcp", cert: tls.cert, key: tls.key })
      : Deno.listen({ port, hostname, transport: "tcp" });
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
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closed) return;
        this.log.warn(`accept failed: ${errorText(e)}`);
        await delay(100); // e.g. out of file descriptors
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
