import assert from "node:assert/strict";
import { Samples } from "./samples.ts";

Deno.test("percentiles of the recent samples, in a ring of fixed size", () => {
  const s = new Samples(100);
  for (let i = 1; i <= 100; i++) s.add(i);
  assert.deepEqual(s.summary(), { p50: 51, p99: 100, max: 100 });
  for (let i = 0; i < 100; i++) s.add(1); // the ring forgets the old ones
  assert.deepEqual(s.summary(), { p50: 1, p99: 1, max: 1 });
  s.reset();
  assert.deepEqual(s.summary(), { p50: 0, p99: 0, max: 0 });
});
