import assert from "node:assert/strict";
import { FramedConn } from "./framed_conn.ts";
import { FramedServer, idleTimer } from "./framed_server.ts";

const until = async (what: string, check: () => boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

Deno.test("an idle timer fires only after a whole period without arming", async () => {
  let firedAt = 0;
  const idle = idleTimer(() => (firedAt = Date.now()));
  let lastArm = 0;
  for (let i = 0; i < 15; i++) {
    idle.arm(200);
    lastArm = Date.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(firedAt, 0, "kept alive while armed");
  await until("the timer", () => firedAt > 0);
  assert.ok(firedAt - lastArm >= 200, `fired ${firedAt - lastArm} ms after the last arm`);
});

Deno.test("an idle timer armed for less than before fires at the nearer deadline", async () => {
  let fired = false;
  const idle = idleTimer(() => (fired = true));
  idle.arm(60_000);
  idle.arm(50);
  await until("the shorter deadline", () => fired, 2000);
});

Deno.test("a cleared idle timer never fires", async () => {
  let fired = false;
  const idle = idleTimer(() => (fired = true));
  idle.arm(30);
  idle.clear();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fired, false);
});

Deno.test("an idle timer that fires late because this process stalled waits once more", async () => {
  let firedAt = 0;
  const idle = idleTimer(() => (firedAt = Date.now()));
  idle.arm(20);
  const stallEnd = Date.now() + 400;
  while (Date.now() < stallEnd) { /* a busy event loop: the timer cannot run */ }
  await until("the timer", () => firedAt > 0);
  assert.ok(firedAt - stallEnd >= 300, `fired ${firedAt - stallEnd} ms after the stall`);
});

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
  await until("the warning", () => warnings.length === 1);
  assert.match(warnings[0], /2 links open, the most this process can hold/);
  const answer = echo(c, "c");
  assert.equal(server.links, 2);
  a.close();
  assert.equal(await answer, "c", "served once a link closed");
  for (const conn of [b, c]) conn.close();
  server.close();
});
