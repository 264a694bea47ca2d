/**
 * How far behind this process is in reading its sockets, measured with a canary: a loopback
 * connection to itself that carries one byte every 100 ms. Its bytes wait in the same queue
 * as every other socket's, so their delay is the delay of all reads.
 *
 * A server with ten thousand links can fall seconds behind in a burst (ten thousand monitors
 * reconnecting after a restart of Central) while its timers still run on time: the timers
 * would then blame peers whose frames are only waiting unread. Silence verdicts consult
 * this lag first, as the session watchdog does with Kafka.
 *
 * @module
 */

const PERIOD_MS = 100;

/** A running canary. */
export class IoLag {
  readonly #sent: number[] = [];
  #last = 0;
  #timer?: ReturnType<typeof setInterval>;
  #conns: Deno.TcpConn[] = [];
  #stopped = false;

  /** Opens the loopback pair and starts measuring; never throws (no canary: no lag). */
  static async start(): Promise<IoLag> {
    const lag = new IoLag();
    try {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      const [writer, reader] = await Promise.all([
        Deno.connect({ hostname: "127.0.0.1", port }),
        listener.accept(),
      ]);
      listener.close();
      lag.#run(writer, reader);
    } catch {
      // Without loopback sockets the verdicts simply do not wait.
    }
    return lag;
  }

  #run(writer: Deno.TcpConn, reader: Deno.TcpConn): void {
    this.#conns = [writer, reader];
    writer.setNoDelay(true);
    const tick = new Uint8Array([1]);
    this.#timer = setInterval(() => {
      this.#sent.push(performance.now());
      writer.write(tick).catch(() => this.stop());
    }, PERIOD_MS);
    void (async () => {
      const buf = new Uint8Array(64);
      while (!this.#stopped) {
        let n: number | null;
        try {
          n = await reader.read(buf);
        } catch {
          n = null;
        }
        if (n === null) return this.stop();
        const now = performance.now();
        for (let i = 0; i < n; i++) {
          const at = this.#sent.shift();
          if (at !== undefined) this.#last = now - at;
        }
      }
    })();
  }

  /**
   * Milliseconds by which reads are late now: the age of the oldest byte not read yet, or the
   * delay of the last one read.
   */
  current(): number {
    if (this.#stopped) return 0;
    const oldest = this.#sent[0];
    return Math.max(this.#last, oldest === undefined ? 0 : performance.now() - oldest);
  }

  /** Closes the canary. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
}
