import assert from "node:assert/strict";
import { campaignIds, campaignTargets, programNames } from "./targets.ts";

Deno.test("campaignTargets: cables, broker and every program, in a fixed order", () => {
  const t = campaignTargets(["CP-01", "CP-02"], ["D1"], true);
  assert.deepEqual(t.map((x) => `${x.name}:${x.kinds.join("/")}`), [
    "cable pc1:cut",
    "cable pc2:cut",
    "cable pc3:cut",
    "broker:kill/pause",
    "central:kill/pause",
    "standby:kill/pause",
    "engine CP-01:kill/pause",
    "monitor CP-01:kill/pause",
    "engine CP-02:kill/pause",
    "monitor CP-02:kill/pause",
    "driver D1:kill/pause",
  ]);
  assert.ok(!programNames(["CP-01"], ["D1"], false).includes("standby"));
});

Deno.test("campaignIds: CP-01… and D1…", () => {
  assert.deepEqual(campaignIds({ cps: 2, drivers: 3 }), {
    cpIds: ["CP-01", "CP-02"],
    driverIds: ["D1", "D2", "D3"],
  });
});
