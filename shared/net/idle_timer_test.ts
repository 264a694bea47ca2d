import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { idleTimer } from "./idle_timer.ts";
import { eventually } from "../process/eventually.ts";

Deno.test("an idle timer fires only after a whole period without arming", async () => {
  let firedAt = 0;
  const idle = idleTimer(() => (firedAt = Date.now()));
  let lastArm = 0;
  for (let i = 0; i < 15; i++) {
    idle.arm(200);
    lastArm = Date.now();
    await delay(20);
  }
  assert.equal(firedAt, 0, "kept alive while armed");
  await eventually("the timer", () => firedAt > 0, 3000);
  assert.ok(firedAt - lastArm >= 200, `fired ${firedAt - lastArm} ms after the last arm`);
});

Deno.test("an idle timer armed for less than before fires at the nearer deadline", async () => {
  let fired = false;
  const idle = idleTimer(() => (fired = true));
  idle.arm(60_000);
  idle.arm(50);
  await eventually("the shorter deadline", () => fired, 2000);
});

Deno.test("a cleared idle timer never fires", async () => {
  let fired = false;
  const idle = idleTimer(() => (fired = true));
  idle.arm(30);
  idle.clear();
  await delay(100);
  assert.equal(fired, false);
});

Deno.test("an idle timer that fires late because this process stalled waits once more", async () => {
  let firedAt = 0;
  const idle = idleTimer(() => (firedAt = Date.now()));
  idle.arm(20);
  const stallEnd = Date.now() + 400;
  while (Date.now() < stallEnd) { /* a busy event loop: the timer cannot run */ }
  await eventually("the timer", () => firedAt > 0, 3000);
  assert.ok(firedAt - stallEnd >= 300, `fired ${firedAt - stallEnd} ms after the stall`);
});
