import assert from "node:assert/strict";
import { Backoff } from "./backoff.ts";

/** The delays of `count` attempts in a row. */
function delays(backoff: Backoff, count: number): number[] {
  return Array.from({ length: count }, () => backoff.next());
}

Deno.test("backoff: doubles from the start up to the cap", () => {
  const middle = () => 0.5; // no jitter: 0.8 + 0.4 × 0.5 = 1
  assert.deepEqual(delays(new Backoff(500, 5000, middle), 6), [500, 1000, 2000, 4000, 5000, 5000]);
  assert.deepEqual(delays(new Backoff(100, 250, middle), 4), [100, 200, 250, 250]);
});

Deno.test("backoff: jitter keeps each delay within 80% and 120% of its step", () => {
  assert.deepEqual(delays(new Backoff(500, 5000, () => 0), 5), [400, 800, 1600, 3200, 4000]);
  // Math.random() is below 1, never 1.
  const top = delays(new Backoff(500, 5000, () => 0.999_999), 5);
  assert.deepEqual(top, [600, 1200, 2400, 4800, 6000]);
});

Deno.test("backoff: a reset starts again from the shortest delay", () => {
  const backoff = new Backoff(500, 5000, () => 0.5);
  delays(backoff, 4);
  backoff.reset();
  assert.deepEqual(delays(backoff, 2), [500, 1000]);
});
