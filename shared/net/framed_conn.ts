/**
 * A TCP connection that sends and receives {@link encodeFrame frames}.
 *
 * Writes are queued so that concurrent senders never interleave bytes, and every read
 * path ends in `close()`, which is safe to call more than once.
 *
 * @module
 */
import { type Decoded, encodeFrame, FrameDecoder } from "../protocol/framing.ts";
import { decodeValue, type Parser } from "../protocol/decode.ts";

/** A link's first read buffer: a heartbeat or a report fits, a registration nearly does. */
const FIRST_READ_BYTES = 512;

/** The largest read buffer a link grows to. */
const MAX_READ_BYTES = 16 * 1024;

/** A framed view of a TCP link (`Deno.TcpConn`), or of a TLS one over TCP (`Deno.TlsConn`). */
export class FramedConn {
  #decoder = new FrameDecoder();
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(readonly conn: Deno.Conn) {
    // Frames are small and latency matters (AVERIA "at once"); keepalive helps the OS notice
    // dead peers, though our heartbeats are what bound detection time.
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    if ("setKeepAlive" in conn) (conn as Deno.TcpConn).setKeepAlive(true);
  }

  /** The peer's address as `host:port`. */
  get peer(): string {
    const a = this.conn.remoteAddr as Deno.NetAddr;
    return a.hostname ? `${a.hostname}:${a.port}` : "peer";
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one message. Resolves false instead of throwing when the link is gone. */
  send(message: unknown): Promise<boolean> {
    return this.sendFrame(encodeFrame(message));
  }

  /** Sends a frame encoded beforehand (e.g. a heartbeat, the same bytes every time). */
  sendFrame(frame: Uint8Array): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    const done = this.#writing.then(async () => {
      if (this.#closed) return false;
      try {
        let written = 0;
        while (written < frame.length) written += await this.conn.write(frame.subarray(written));
        return true;
      } catch {
        this.close();
        return false;
      }
    });
    this.#writing = done.then(() => {});
    return done;
  }

  /**
   * Yields decoded frames until the peer closes the link. Throws FrameError on a
   * framing violation; the caller decides what to tell the peer before closing.
   */
  async *frames(): AsyncGenerator<Decoded> {
    // Every open link holds its buffer while it waits: small ones keep ten thousand links
    // cheap (5 MB instead of 40 at 4 KiB). A read that fills its buffer means a busier peer
    // or a larger frame, so that link's buffer grows.
    let buf = new Uint8Array(FIRST_READ_BYTES);
    while (!this.#closed) {
      let n: number | null;
      try {
        n = await this.conn.read(buf);
      } catch {
        return; // reset, or closed by us
      }
      if (n === null) return;
      yield* this.#decoder.push(buf.subarray(0, n));
      if (n === buf.length && buf.length < MAX_READ_BYTES) buf = new Uint8Array(2 * buf.length);
    }
  }

  /**
   * Yields the peer's messages that `parse` accepts, until the link closes. A frame whose body
   * is not JSON, or not a message, goes to `onInvalid` (which may answer the peer, or close the
   * link) and the stream goes on. Throws FrameError on a framing violation, like
   * {@link frames}.
   */
  async *messages<T>(
    parse: Parser<T>,
    onInvalid: (error: string) => void | Promise<void>,
  ): AsyncGenerator<T> {
    for await (const frame of this.frames()) {
      const decoded = frame.ok ? decodeValue(frame.value, parse) : frame;
      if (decoded.ok) yield decoded.value;
      else await onInvalid(decoded.error);
    }
  }

  /** Closes the socket; later sends resolve false. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}
