import assert from "node:assert/strict";
import { standbyAnswer } from "./standby_http.ts";

Deno.test("a standby answers 503 and names the active Central", async () => {
  const res = standbyAnswer("pc2 pid 7 (ab12cd34)");
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), {
    role: "standby",
    active: "pc2 pid 7 (ab12cd34)",
    error: "standby: Central pc2 pid 7 (ab12cd34) is active on this database",
  });
});

Deno.test("a standby of the network says so, naming the claim topic", async () => {
  const res = standbyAnswer("claim topic central_claim", "network");
  assert.equal(res.status, 503);
  assert.equal(
    (await res.json()).error,
    "standby: another Central serves this network (claim topic central_claim)",
  );
});
