import assert from "node:assert/strict";
import { FramedConn } from "./framed_conn.ts";

Deno.test("frames of every size arrive whole, before and after the read buffer grows", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const [client, accepted] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port }),
    listener.accept(),
  ]);
  const sender = new FramedConn(client);
  const receiver = new FramedConn(accepted);
  // Small, then larger than the first buffer, than several doublings, then small again.
  const sizes = [10, 400, 600, 3000, 20_000, 50, 9000, 5];
  const sent = sizes.map((n, i) => ({ i, text: "x".repeat(n) }));
  for (const m of sent) assert.ok(await sender.send(m));
  const got: unknown[] = [];
  for await (const frame of receiver.frames()) {
    assert.ok(frame.ok);
    got.push(frame.value);
    if (got.length === sent.length) break;
  }
  assert.deepEqual(got, sent);
  sender.close();
  receiver.close();
  listener.close();
});
