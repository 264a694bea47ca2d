import assert from "node:assert/strict";
import { driverGroup, offsetsToPin } from "./start_offsets.ts";

Deno.test("a driver's group is the same for every run of its id, one per network", () => {
  assert.equal(driverGroup("D-1", "control_topic"), "ev-driver-D-1");
  assert.equal(driverGroup("D-1", "a_control_topic"), driverGroup("D-1", "a_control_topic"));
  assert.equal(driverGroup("D-1", "a_control_topic"), "ev-driver-D-1.a_control_topic");
  assert.notEqual(driverGroup("D-1", "a_control_topic"), driverGroup("D-2", "a_control_topic"));
});

Deno.test("first run ever: every partition is pinned at its end", () => {
  const ends = [{ partition: 0, offset: "12" }, { partition: 1, offset: "0" }];
  assert.deepEqual(offsetsToPin(ends, []), ends);
  const none = [{ partition: 0, offset: "-1" }, { partition: 1, offset: "-1" }];
  assert.deepEqual(offsetsToPin(ends, none), ends);
});

Deno.test("a run after another resumes at the committed offsets: nothing pinned", () => {
  const ends = [{ partition: 0, offset: "12" }, { partition: 1, offset: "7" }];
  const committed = [{ partition: 0, offset: "3" }, { partition: 1, offset: "0" }];
  assert.deepEqual(offsetsToPin(ends, committed), []);
});

Deno.test("only the partitions without a committed offset are pinned (e.g. added ones)", () => {
  const ends = [
    { partition: 0, offset: "12" },
    { partition: 1, offset: "7" },
    { partition: 2, offset: "4" },
  ];
  const committed = [{ partition: 0, offset: "3" }, { partition: 1, offset: "-1" }];
  assert.deepEqual(offsetsToPin(ends, committed), [
    { partition: 1, offset: "7" },
    { partition: 2, offset: "4" },
  ]);
});
