import assert from "node:assert/strict";
import { BrokerWatch, UNREACHABLE_AFTER_MS } from "./broker_watch.ts";

Deno.test("reachable while the consumer fetches; unreachable after 3 s without a fetch", () => {
  const clock = { now: 1_000 };
  const watch = new BrokerWatch(() => clock.now);
  assert.equal(watch.reachable(), true, "starts reachable: the consumer has just fetched");
  clock.now += UNREACHABLE_AFTER_MS - 1;
  assert.equal(watch.reachable(), true);
  clock.now += 1;
  assert.equal(watch.reachable(), false);
  watch.fetched();
  assert.equal(watch.reachable(), true);
});

Deno.test("a failed send makes it unreachable at once, until the next fetch", () => {
  const clock = { now: 1_000 };
  const watch = new BrokerWatch(() => clock.now);
  watch.sendFailed();
  assert.equal(watch.reachable(), false);
  clock.now += 10;
  watch.fetched();
  assert.equal(watch.reachable(), true);
});
