import assert from "node:assert/strict";
import { Activity, RECENT_EVENTS } from "./activity.ts";

Deno.test("activity: the last events, oldest first, and the decisions counted", () => {
  const a = new Activity();
  const kinds = ["authorized", "denied", "denied", "averia"];
  for (let i = 0; i < RECENT_EVENTS + 5; i++) {
    a.record({ at: i, kind: kinds[i % kinds.length], detail: `#${i}` });
  }
  const recent = a.recent();
  assert.equal(recent.length, RECENT_EVENTS);
  assert.equal(recent[0].detail, "#5");
  assert.equal(recent.at(-1)!.detail, `#${RECENT_EVENTS + 4}`);
  // 35 events: 9 authorized (0,4,…,32), 18 denied, 8 averia.
  assert.deepEqual(a.counts(), { requests: 27, authorized: 9, denied: 18 });
});
