import assert from "node:assert/strict";
import { ClaimWatch } from "./kafka_claim.ts";

Deno.test("claim watch: an empty claim topic is free at once", () => {
  const w = new ClaimWatch(3000);
  assert.equal(w.observe(0, { low: 0, high: 0 }), "free");
  assert.equal(new ClaimWatch(3000).observe(0, { low: 42, high: 42 }), "free", "released");
});

Deno.test("claim watch: a moving topic is held, and dead after standing still for the timeout", () => {
  const w = new ClaimWatch(3000);
  assert.equal(w.observe(0, { low: 0, high: 10 }), "unknown", "one look says nothing yet");
  assert.equal(w.observe(500, { low: 0, high: 12 }), "held");
  assert.equal(w.observe(1000, { low: 0, high: 12 }), "held");
  assert.equal(w.observe(3000, { low: 0, high: 12 }), "held");
  assert.equal(w.observe(3500, { low: 0, high: 12 }), "dead");
});

Deno.test("claim watch: a topic that never moves is dead after the timeout (a holder killed before)", () => {
  const w = new ClaimWatch(3000);
  for (let t = 0; t < 3000; t += 500) assert.equal(w.observe(t, { low: 0, high: 10 }), "unknown");
  assert.equal(w.observe(3000, { low: 0, high: 10 }), "dead");
});

Deno.test("claim watch: time without the broker never counts as silence", () => {
  const w = new ClaimWatch(3000);
  assert.equal(w.observe(0, { low: 0, high: 10 }), "unknown");
  assert.equal(w.observe(1000, { low: 0, high: 10 }), "unknown");
  for (let t = 1500; t <= 30_000; t += 500) assert.equal(w.observe(t, undefined), "unknown");
  assert.equal(w.observe(30_500, { low: 0, high: 10 }), "unknown", "the outage is not silence");
  assert.equal(w.observe(31_000, { low: 0, high: 12 }), "held", "the holder is back");
  assert.equal(w.observe(33_500, { low: 0, high: 12 }), "held");
  assert.equal(w.observe(34_000, { low: 0, high: 12 }), "dead");
});

Deno.test("claim watch: a topic stamped quiet for the timeout is dead once seen still for 1.5 s", () => {
  const w = new ClaimWatch(3000);
  const quiet = { low: 0, high: 10, recent: 10 }; // no record within the last 3 s
  assert.equal(w.observe(0, quiet), "unknown");
  assert.equal(w.observe(1000, quiet), "unknown", "a live holder beats within a second");
  assert.equal(w.observe(1500, quiet), "dead");
  const live = new ClaimWatch(3000);
  assert.equal(live.observe(0, quiet), "unknown");
  assert.equal(live.observe(1000, { low: 0, high: 12, recent: 10 }), "held", "it moved: alive");
  assert.equal(live.observe(2500, { low: 0, high: 12, recent: 10 }), "held");
});
