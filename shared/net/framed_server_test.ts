import assert from "node:assert/strict";
import { eventually } from "../process/eventually.ts";
import { FramedConn } from "./framed_conn.ts";
import { FramedServer } from "./framed_server.ts";

Deno.test("a server at its most links lets new connections wait until one closes", async () => {
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) };
  const server = new FramedServer(
    0,
    "127.0.0.1",
    async (link) => {
      for await (const frame of link.frames()) await link.send(frame.ok ? frame.value : null);
    },
    log,
    { maxLinks: 2 },
  );
  const connect = async () =>
    new FramedConn(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
  const echo = async (c: FramedConn, value: string) => {
    await c.send(value);
    for await (const frame of c.frames()) return frame.ok ? frame.value : undefined;
  };
  const [a, b] = [await connect(), await connect()];
  assert.equal(await echo(a, "a"), "a");
  assert.equal(await echo(b, "b"), "b");
  const c = await connect(); // the kernel accepts it; the server does not serve it yet
  await eventually("the warning", () => warnings.length === 1, 10_000);
  assert.match(warnings[0], /2 links open, the most this process can hold/);
  const answer = echo(c, "c");
  assert.equal(server.links, 2);
  a.close();
  assert.equal(await answer, "c", "served once a link closed");
  for (const conn of [b, c]) conn.close();
  server.close();
});
