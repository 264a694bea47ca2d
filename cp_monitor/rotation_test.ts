import assert from "node:assert/strict";
import { Backoff } from "../shared/process/backoff.ts";
import { Rotation } from "./rotation.ts";

const fixed = () => new Backoff(500, 5000, () => 0.5); // no jitter

Deno.test("one address: every failure waits the backoff, as before", () => {
  const r = new Rotation(["A"], fixed());
  assert.deepEqual([r.failed(), r.failed(), r.failed()], [500, 1000, 2000]);
  assert.equal(r.current, "A");
});

Deno.test("several addresses: the next at once, the backoff after a whole round", () => {
  const r = new Rotation(["A", "B", "C"], fixed());
  const tried: string[] = [];
  const pauses: number[] = [];
  for (let i = 0; i < 6; i++) {
    tried.push(r.current);
    pauses.push(r.failed());
  }
  assert.deepEqual(tried, ["A", "B", "C", "A", "B", "C"]);
  assert.deepEqual(pauses, [0, 0, 500, 0, 0, 1000]);
});

Deno.test("a success keeps that address and starts the pauses again", () => {
  const r = new Rotation(["A", "B"], fixed());
  r.failed();
  r.failed(); // a round: 500
  assert.equal(r.current, "A");
  r.failed();
  assert.equal(r.current, "B");
  r.succeeded();
  assert.equal(r.current, "B");
  // B lost: A at once, then the backoff from its start.
  assert.deepEqual([r.failed(), r.failed()], [0, 500]);
});

Deno.test("no address is a programming error", () => {
  assert.throws(() => new Rotation([]), /no address/);
});
