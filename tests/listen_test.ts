/**
 * Issue 14: each listener binds the address it is given. An engine's health port is for the
 * monitor beside it (127.0.0.1 unless told otherwise); Central's monitor port and HTTP API
 * serve other PCs unless told otherwise. Another loopback address (127.0.0.2: all of
 * 127.0.0.0/8 is loopback on Linux) stands in for "another machine", so that no address
 * beyond this machine's loopback is ever used.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { api, E2E, freePort, withScenario } from "./harness.ts";

/** Whether a TCP connection to `hostname:port` is accepted (refused: false). */
async function accepts(hostname: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) return false;
    throw e;
  }
}

const OTHER = "127.0.0.2";

Deno.test({
  name: "an engine's health port answers only on 127.0.0.1 by default, everywhere with --listen",
  ...E2E,
  fn: () =>
    withScenario(async (s) => {
      const local = freePort();
      await s.engine(local, [], "engine default");
      assert.equal(await accepts("127.0.0.1", local), true, "its monitor on the same PC");
      assert.equal(await accepts(OTHER, local), false, "another address is refused");

      const open = freePort();
      await s.engine(open, ["--listen", "0.0.0.0"], "engine --listen 0.0.0.0");
      assert.equal(await accepts("127.0.0.1", open), true);
      assert.equal(await accepts(OTHER, open), true);
    }),
});

Deno.test({
  name: "Central: --listen and --http <addr:port> bind one address; the defaults bind all",
  ...E2E,
  fn: () =>
    withScenario(async (s) => {
      const port = freePort();
      const http = freePort();
      const narrow = await s.central(port, join(s.dir, "narrow.db"), [
        "--listen",
        "127.0.0.1",
        "--http",
        `127.0.0.1:${http}`,
      ]);
      assert.equal(await accepts("127.0.0.1", port), true, "monitor port on 127.0.0.1");
      assert.equal(await accepts(OTHER, port), false, "monitor port elsewhere");
      assert.equal((await api(`http://127.0.0.1:${http}/cps`)).status, 200, "HTTP on 127.0.0.1");
      assert.equal(await accepts(OTHER, http), false, "HTTP elsewhere");
      // One Central serves a network (topic prefix) at a time: the next one would be its standby.
      assert.equal((await narrow.stop()).code, 0);

      const wide = freePort();
      const wideHttp = freePort();
      await s.central(wide, join(s.dir, "wide.db"), ["--http", String(wideHttp)]);
      assert.equal(await accepts(OTHER, wide), true, "monitor port on every address");
      assert.equal((await api(`http://${OTHER}:${wideHttp}/cps`)).status, 200, "HTTP too");
    }),
});
