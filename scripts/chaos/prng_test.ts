import assert from "node:assert/strict";
import { intBetween, mulberry32, pick } from "./prng.ts";

Deno.test("mulberry32: the same seed gives the same numbers, another seed others", () => {
  const a = mulberry32(42), b = mulberry32(42), c = mulberry32(43);
  const xs = Array.from({ length: 20 }, a);
  assert.deepEqual(Array.from({ length: 20 }, b), xs);
  assert.notDeepEqual(Array.from({ length: 20 }, c), xs);
  for (const x of xs) assert.ok(x >= 0 && x < 1);
});

Deno.test("intBetween and pick stay inside their bounds", () => {
  const r = mulberry32(7);
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const n = intBetween(r, 2, 5);
    assert.ok(n >= 2 && n <= 5 && Number.isInteger(n));
    seen.add(n);
  }
  assert.deepEqual([...seen].sort(), [2, 3, 4, 5]);
  assert.equal(pick(r, ["only"]), "only");
  assert.throws(() => pick(r, []), /empty/);
});
