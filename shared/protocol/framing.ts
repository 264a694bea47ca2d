/**
 * Length-prefixed JSON frames for the TCP links (monitor ↔ Central, monitor ↔ engine).
 *
 * A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. The
 * length is checked against a maximum before anything is buffered, so a peer that lies
 * about it cannot make the receiver allocate.
 *
 * @module
 */

/** Largest frame body accepted, in bytes. Our messages are a few hundred bytes. */
export const MAX_FRAME_BYTES = 64 * 1024;

const HEADER_BYTES = 4;
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** A framing violation after which the byte stream cannot be trusted: close the link. */
export class FrameError extends Error {
  override name = "FrameError";
}

/** Encodes one message as a frame. */
export function encodeFrame(message: unknown, maxBytes = MAX_FRAME_BYTES): Uint8Array {
  const body = encoder.encode(JSON.stringify(message));
  if (body.length > maxBytes) {
    throw new FrameError(`frame of ${body.length} bytes exceeds the maximum of ${maxBytes}`);
  }
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, HEADER_BYTES);
  return frame;
}

/**
 * One decoded frame: its JSON value, or why its body could not be read. A bad body
 * (invalid UTF-8 or JSON) does not break the stream: the next frame is still found.
 */
export type Decoded = { ok: true; value: unknown } | { ok: false; error: string };

/** Reassembles frames from chunks of any size, split or coalesced. */
export class FrameDecoder {
  #buffer: Uint8Array = EMPTY;
  #utf8 = new TextDecoder("utf-8", { fatal: true });

  constructor(readonly maxBytes = MAX_FRAME_BYTES) {}

  /** Bytes received but not yet part of a whole frame. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Adds received bytes; returns the frames they complete. Throws {@link FrameError}. */
  push(chunk: Uint8Array): Decoded[] {
    // The usual chunk holds whole frames and nothing else: it is decoded where it lies, and
    // only a partial frame at its end is copied (the caller reuses its read buffer).
    const data = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    const out: Decoded[] = [];
    let offset = 0;
    while (data.length - offset >= HEADER_BYTES) {
      const length = new DataView(data.buffer, data.byteOffset + offset).getUint32(0);
      if (length > this.maxBytes) {
        // A TLS record (alert or handshake, version 3.x) read as a length: say so.
        const tls = data[offset] >= 0x14 && data[offset] <= 0x17 && data[offset + 1] === 3;
        throw new FrameError(
          `frame length ${length} exceeds the maximum of ${this.maxBytes}` +
            (tls ? " (the peer speaks TLS: see --tls-ca, --tls-cert)" : ""),
        );
      }
      if (length === 0) throw new FrameError("empty frame");
      if (data.length - offset < HEADER_BYTES + length) break;
      const body = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
      out.push(this.#decodeBody(body));
      offset += HEADER_BYTES + length;
    }
    this.#buffer = offset === data.length ? EMPTY : data.slice(offset);
    return out;
  }

  #decodeBody(body: Uint8Array): Decoded {
    let text: string;
    try {
      text = this.#utf8.decode(body);
    } catch {
      return { ok: false, error: "frame is not valid UTF-8" };
    }
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false, error: "frame is not valid JSON" };
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
