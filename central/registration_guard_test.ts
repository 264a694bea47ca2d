import assert from "node:assert/strict";
import { type GuardLimits, RegistrationGuard, sourceOf } from "./registration_guard.ts";

const LIMITS: GuardLimits = {
  pendingPerSource: 2,
  pendingTotal: 3,
  failuresPerSource: 3,
  windowMs: 10_000,
  sources: 3,
};

Deno.test("guard: unregistered links are limited per source and in total", () => {
  const g = new RegistrationGuard(LIMITS);
  assert.equal(g.admit("10.0.0.9"), true);
  assert.equal(g.admit("10.0.0.9"), true);
  assert.equal(g.admit("10.0.0.9"), false, "a third from one source");
  assert.equal(g.admit("10.0.0.7"), true);
  assert.equal(g.admit("10.0.0.8"), false, "a fourth in all");
  g.settled("10.0.0.9");
  assert.equal(g.pending, 2);
  assert.equal(g.admit("10.0.0.8"), true);
  g.settled("10.0.0.1"); // never admitted: changes nothing
  assert.equal(g.pending, 3);
});

Deno.test("guard: a source that keeps failing is refused without checking until its window ends", () => {
  const g = new RegistrationGuard(LIMITS);
  for (let i = 0; i < 3; i++) {
    assert.equal(g.locked("10.0.0.9", 1000 + i), undefined);
    g.failed("10.0.0.9", 1000 + i, "wrong secret for CP CP-1", "CP-1");
  }
  assert.match(
    g.locked("10.0.0.9", 2000)!,
    /too many failed registrations from 10\.0\.0\.9; .* 9 s/,
  );
  assert.equal(g.locked("10.0.0.8", 2000), undefined, "other sources are not");
  assert.equal(g.locked("10.0.0.9", 11_000), undefined, "a new window");
});

Deno.test("guard: per source and window, the first refusal and then one count are recorded", () => {
  const g = new RegistrationGuard(LIMITS);
  const first = g.failed("10.0.0.9", 0, "wrong secret for CP CP-1", "CP-1");
  assert.deepEqual(first, [{ detail: "wrong secret for CP CP-1 (from 10.0.0.9)", cpId: "CP-1" }]);
  for (let i = 1; i < 300; i++) {
    assert.deepEqual(g.failed("10.0.0.9", i, "wrong secret", "CP-1"), []);
  }
  assert.deepEqual(g.expire(9_999), []);
  assert.deepEqual(g.expire(10_000), [{
    detail: "299 more refused registrations from 10.0.0.9 in 10 s (the last: wrong secret)",
    cpId: "CP-1",
  }]);
  assert.deepEqual(g.expire(20_000), [], "told once");
});

Deno.test("guard: beyond the sources followed, the others share one window", () => {
  const g = new RegistrationGuard(LIMITS);
  g.failed("a", 0, "r");
  g.failed("b", 0, "r");
  assert.equal(g.failed("c", 0, "r").length, 1, "the first of the others is recorded");
  assert.deepEqual(g.failed("d", 0, "r"), [], "counted with c");
  g.failed("e", 0, "r");
  assert.ok(g.locked("f", 1), "the others together failed three times");
});

Deno.test("guard: the source of a peer, v4 or v6", () => {
  assert.equal(sourceOf("10.0.0.9:51234"), "10.0.0.9");
  assert.equal(sourceOf("[::1]:7000"), "::1");
});
