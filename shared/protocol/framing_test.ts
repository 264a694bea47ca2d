import assert from "node:assert/strict";
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_BYTES } from "./framing.ts";

const values = (d: ReturnType<FrameDecoder["push"]>) => d.map((f) => (f.ok ? f.value : f.error));

Deno.test("a frame is a 4-byte big-endian length and UTF-8 JSON", () => {
  const f = encodeFrame({ a: "ñ" });
  assert.deepEqual([...f.subarray(0, 4)], [0, 0, 0, 10]);
  assert.equal(new TextDecoder().decode(f.subarray(4)), '{"a":"ñ"}');
});

Deno.test("coalesced frames in one chunk all come out, in order", () => {
  const d = new FrameDecoder();
  const chunk = new Uint8Array([
    ...encodeFrame({ n: 1 }),
    ...encodeFrame({ n: 2 }),
    ...encodeFrame({ n: 3 }),
  ]);
  assert.deepEqual(values(d.push(chunk)), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  assert.equal(d.pending, 0);
});

Deno.test("a frame split at every byte is reassembled", () => {
  const d = new FrameDecoder();
  const bytes = new Uint8Array([...encodeFrame({ type: "HEARTBEAT" }), ...encodeFrame({ n: 2 })]);
  const out = [];
  for (const b of bytes) out.push(...values(d.push(new Uint8Array([b]))));
  assert.deepEqual(out, [{ type: "HEARTBEAT" }, { n: 2 }]);
});

Deno.test("an oversize length is refused before anything is buffered", () => {
  const d = new FrameDecoder();
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
  assert.throws(() => d.push(header), FrameError);
  assert.throws(() => encodeFrame({ big: "x".repeat(MAX_FRAME_BYTES) }), FrameError);
});

Deno.test("an empty frame is a framing violation", () => {
  assert.throws(() => new FrameDecoder().push(new Uint8Array(4)), /empty frame/);
});

Deno.test("a frame with bad JSON or bad UTF-8 is reported and the next frame still parses", () => {
  const d = new FrameDecoder();
  const bad = new TextEncoder().encode("{nope");
  const badUtf8 = new Uint8Array([0xff, 0xfe]);
  const frame = (body: Uint8Array) => {
    const f = new Uint8Array(4 + body.length);
    new DataView(f.buffer).setUint32(0, body.length);
    f.set(body, 4);
    return f;
  };
  const out = d.push(new Uint8Array([...frame(bad), ...frame(badUtf8), ...encodeFrame({ ok: 1 })]));
  assert.deepEqual(values(out), ["frame is not valid JSON", "frame is not valid UTF-8", { ok: 1 }]);
});

Deno.test("a TLS record read as a frame says the peer speaks TLS", () => {
  const alert = new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x30]);
  assert.throws(() => new FrameDecoder().push(alert), /\(the peer speaks TLS: see --tls-ca/);
  const big = new Uint8Array([0x7f, 0x03, 0x03, 0x00, 1]);
  assert.throws(() => new FrameDecoder().push(big), (e: Error) => !/TLS/.test(e.message));
});
