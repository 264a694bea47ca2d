import assert from "node:assert/strict";
import { eventually } from "../shared/process/eventually.ts";
import { FramedConn } from "../shared/net/framed_conn.ts";
import { CentralLink } from "./central_link.ts";

/** A stand-in for Central that answers each connection's REGISTER with the next answer. */
function fakeCentral(answers: ("WELCOME" | "REFUSED")[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const registrations: string[] = [];
  const links: FramedConn[] = [];
  const served = (async () => {
    for (const answer of answers) {
      const link = new FramedConn(await listener.accept());
      links.push(link);
      for await (const frame of link.frames()) {
        if (!frame.ok || (frame.value as { type: string }).type !== "REGISTER") continue;
        registrations.push(answer);
        if (answer === "REFUSED") {
          await link.send({ type: "REFUSED", reason: "CP X is already connected" });
        } else {
          await link.send({
            type: "WELCOME",
            cp_id: "X",
            known: true,
            state: "ACTIVADO",
            message: "hi",
            heartbeat_ms: 1000,
          });
          // The first welcome is followed by a lost link, as when Central falls silent.
          if (links.length === 1) link.close();
        }
        break;
      }
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    port,
    registrations,
    async close() {
      listener.close();
      for (const l of links) l.close();
      await served.catch(() => {});
    },
  };
}

Deno.test("a reconnection refused while Central still holds the old link is tried again", async () => {
  const central = fakeCentral(["WELCOME", "REFUSED", "WELCOME"]);
  const refusals: string[] = [];
  const downs: string[] = [];
  const link = new CentralLink(
    { host: "127.0.0.1", port: central.port },
    { cp_id: "X", location: "here", price_eur_kwh: 0.3 },
    "OK",
    { up() {}, down: (w) => downs.push(w), refused: (r) => refusals.push(r), notice() {} },
  );
  const running = link.run();
  await eventually("the third registration", () => central.registrations.length === 3, 10_000);
  await eventually("registered again", () => link.registered, 10_000);
  link.stop();
  await running;
  await central.close();
  assert.deepEqual(refusals, [], "never refused for good");
  assert.ok(downs.some((d) => /refused the reconnection: CP X is already connected/.test(d)));
});

Deno.test("a first registration that Central refuses is final", async () => {
  const central = fakeCentral(["REFUSED"]);
  const refusals: string[] = [];
  const link = new CentralLink(
    { host: "127.0.0.1", port: central.port },
    { cp_id: "X", location: "here", price_eur_kwh: 0.3 },
    "OK",
    { up() {}, down() {}, refused: (r) => refusals.push(r), notice() {} },
  );
  await link.run(); // returns: no retry after a first refusal
  await central.close();
  assert.deepEqual(refusals, ["CP X is already connected"]);
});

Deno.test("a slower beat asked in WELCOME is not mistaken for Central's silence", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let answers = 0;
  let server: FramedConn | undefined;
  const served = (async () => {
    server = new FramedConn(await listener.accept());
    for await (const frame of server.frames()) {
      if (!frame.ok) continue;
      const type = (frame.value as { type: string }).type;
      if (type === "REGISTER") {
        await server.send({
          type: "WELCOME",
          cp_id: "X",
          known: false,
          state: "ACTIVADO",
          message: "hi",
          heartbeat_ms: 500, // longer than the link's own 300 ms silence timeout below
        });
      } else if (type === "HEARTBEAT") {
        answers++;
        await server.send({ type: "HEARTBEAT", interval_ms: 500 });
      }
    }
  })();
  const downs: string[] = [];
  const link = new CentralLink(
    { host: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
    { cp_id: "X", location: "here", price_eur_kwh: 0.3 },
    "OK",
    { up() {}, down: (w) => downs.push(w), refused() {}, notice() {} },
    { heartbeatMs: 100, timeoutMs: 300 },
  );
  const running = link.run();
  await eventually("three beats at the slower pace", () => answers >= 3, 10_000);
  assert.deepEqual(downs, [], "the link stayed up");
  assert.ok(link.registered);
  link.stop();
  await running;
  listener.close();
  server?.close();
  await served;
});

Deno.test("a stop ends the pause between attempts at once, and nothing is tried after it", async () => {
  // A port with nothing behind it: every attempt fails at once and is followed by a pause.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const downs: string[] = [];
  const link = new CentralLink(
    { host: "127.0.0.1", port },
    { cp_id: "X", location: "here", price_eur_kwh: 0.3 },
    "OK",
    { up() {}, down: (w) => downs.push(w), refused() {}, notice() {} },
  );
  const running = link.run();
  await eventually("the first failed attempt", () => downs.length === 1, 5000);
  const stoppedAt = performance.now();
  link.stop();
  await running;
  // The shortest pause of the backoff is 400 ms.
  const took = performance.now() - stoppedAt;
  assert.ok(took < 300, `run() ended ${Math.round(took)} ms after stop()`);
  assert.equal(downs.length, 1);
  assert.match(downs[0], /cannot reach Central at 127\.0\.0\.1:\d+/);
});

Deno.test("with several Centrals, a monitor tries the next at once and says which it is linked to", async () => {
  // The first address has nothing behind it (a standby does not listen), the second welcomes.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const central = fakeCentral(["WELCOME", "WELCOME"]);
  const ups: string[] = [];
  const downs: string[] = [];
  const link = new CentralLink(
    [{ host: "127.0.0.1", port: deadPort }, { host: "127.0.0.1", port: central.port }],
    { cp_id: "X", location: "here", price_eur_kwh: 0.3 },
    "OK",
    {
      up: (_message, at) => ups.push(`${at.host}:${at.port}`),
      down: (w) => downs.push(w),
      refused() {},
      notice() {},
    },
  );
  const startedAt = performance.now();
  const running = link.run();
  await eventually("linked to the second Central", () => ups.length === 1, 5000);
  // No backoff pause between the two addresses of one round (the shortest is 400 ms).
  assert.ok(performance.now() - startedAt < 350, "the second address was tried at once");
  assert.deepEqual(ups, [`127.0.0.1:${central.port}`]);
  // The fake closes its first link: the dead address first, then back to the live one.
  await eventually("linked again", () => ups.length === 2, 10_000);
  assert.equal(ups[1], `127.0.0.1:${central.port}`);
  assert.ok(downs.some((d) => d.includes(`cannot reach Central at 127.0.0.1:${deadPort}`)));
  link.stop();
  await running;
  await central.close();
});
