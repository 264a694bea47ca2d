/**
 * A raw TCP client for hostile-input tests: sends arbitrary bytes and reads whatever frames
 * come back, until the peer closes the link or a deadline passes.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { eventually } from "../shared/process/eventually.ts";
import { encodeFrame, FrameDecoder } from "../shared/protocol/framing.ts";

/** A raw connection to a server under test. */
export class RawClient {
  readonly frames: unknown[] = [];
  readonly closed: Promise<void>;
  #conn: Deno.TcpConn;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.closed = this.#read();
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async #read(): Promise<void> {
    const decoder = new FrameDecoder();
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) return;
        for (const f of decoder.push(buf.subarray(0, n))) {
          this.frames.push(f.ok ? f.value : f.error);
        }
      }
    } catch {
      // reset by the peer: closed as well
    }
  }

  /** Sends bytes; false when the peer has already closed the link. */
  async send(bytes: Uint8Array): Promise<boolean> {
    try {
      let sent = 0;
      while (sent < bytes.length) sent += await this.#conn.write(bytes.subarray(sent));
      return true;
    } catch {
      return false;
    }
  }

  /** Sends one well-formed frame. */
  sendFrame(message: unknown): Promise<boolean> {
    return this.send(encodeFrame(message));
  }

  /** A frame with `body` as its bytes and `length` as its (possibly lying) length. */
  static frame(body: Uint8Array, length = body.length): Uint8Array {
    const out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setUint32(0, length);
    out.set(body, 4);
    return out;
  }

  /** Resolves true when the peer closes within `ms`, false otherwise. */
  async closedWithin(ms: number): Promise<boolean> {
    const timer = new AbortController();
    const timeout = delay(ms, false as const, { signal: timer.signal }).catch(() => false as const);
    const result = await Promise.race([this.closed.then(() => true as const), timeout]);
    timer.abort();
    return result;
  }

  /** Waits until a frame matching `match` arrived (or `ms` passed); returns it. */
  async waitFrame(match: (f: unknown) => boolean, ms = 5000): Promise<unknown> {
    try {
      return await eventually("a matching frame", () => this.frames.find(match), ms, 20);
    } catch {
      throw new Error(
        `no matching frame within ${ms} ms; got ${JSON.stringify(this.frames).slice(0, 300)}`,
      );
    }
  }

  /** Closes our side. */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

/** Whether `f` is an ERROR frame whose message matches `re`. */
export function isError(re: RegExp): (f: unknown) => boolean {
  return (f) =>
    typeof f === "object" && f !== null && (f as { type?: string }).type === "ERROR" &&
    re.test((f as { message: string }).message);
}
