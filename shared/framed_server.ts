/**
 * A TCP server of {@link FramedConn} links: accepts until closed, runs one handler per
 * link, tracks open links and closes them all at shutdown.
 *
 * @module
 */
import { FramedConn } from "./framed_conn.ts";
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

  /** How many links are open. */
  get links(): number {
    return this.#links.size;
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
