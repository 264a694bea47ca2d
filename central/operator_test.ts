import assert from "node:assert/strict";
import { parseOperatorLine } from "./operator.ts";

Deno.test("operator commands: parar/reanudar a CP or all, with short forms", () => {
  assert.deepEqual(parseOperatorLine("parar CP-01"), { kind: "PARAR", target: "CP-01" });
  assert.deepEqual(parseOperatorLine("  REANUDAR   all "), { kind: "REANUDAR", target: "all" });
  assert.deepEqual(parseOperatorLine("p ALL"), { kind: "PARAR", target: "all" });
  assert.deepEqual(parseOperatorLine("help"), { kind: "help" });
  assert.deepEqual(parseOperatorLine("quit"), { kind: "quit" });
});

Deno.test("operator mistakes get a plain message", () => {
  assert.throws(() => parseOperatorLine("explode CP-01"), /unknown command "explode"/);
  assert.throws(() => parseOperatorLine("parar"), /parar needs a CP id or "all"/);
  assert.throws(() => parseOperatorLine("parar CP-01 CP-02"), /takes one CP id/);
  assert.throws(() => parseOperatorLine("parar <script>"), /is not a CP id/);
});

Deno.test("forget <CP>: one CP id, never all", () => {
  assert.deepEqual(parseOperatorLine("forget CP-07"), { kind: "forget", cpId: "CP-07" });
  assert.throws(() => parseOperatorLine("forget"), /usage: forget <CP>/);
  assert.throws(() => parseOperatorLine("forget all"), /one CP at a time/);
  assert.throws(() => parseOperatorLine("forget CP-07 CP-08"), /usage: forget <CP>/);
});
