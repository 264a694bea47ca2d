import { setTimeout as delay } from "node:timers/promises";
import assert from "node:assert/strict";
import { IoLag } from "./io_lag.ts";

Deno.test("the I/O canary reads its own bytes at once on an idle process, and stops", async () => {
  const lag = await IoLag.start();
  try {
    await delay(350); // a few canary bytes go through
    assert.ok(lag.current() < 250, `idle: ${lag.current()} ms`);
  } finally {
    lag.stop();
  }
  assert.equal(lag.current(), 0, "a stopped canary reports no lag");
  await delay(20); // its reader sees the socket closed
});
