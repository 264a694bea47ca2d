import assert from "node:assert/strict";
import { decodeJson, decodeValue } from "./decode.ts";
import { parseControlMessage } from "./messages.ts";

Deno.test("decoding: a valid message, a bad field, bad JSON — answers, not exceptions", () => {
  const ok = decodeJson(
    JSON.stringify({ type: "PARAR", id: "m1", ts: 1_800_000_000_000, cp_id: "CP-01" }),
    parseControlMessage,
  );
  assert.deepEqual(ok, {
    ok: true,
    value: { type: "PARAR", id: "m1", ts: 1_800_000_000_000, cp_id: "CP-01" },
  });
  const bad = decodeValue({ type: "PARAR", id: "m1", ts: 1_800_000_000_000 }, parseControlMessage);
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.error : "", /field "cp_id"/);
  const garbage = decodeJson("{not json", parseControlMessage);
  assert.match(!garbage.ok ? garbage.error : "", /^not valid JSON/);
});

Deno.test("decoding: a parser's own bug is not mistaken for bad input", () => {
  assert.throws(
    () =>
      decodeValue({}, () => {
        throw new TypeError("bug");
      }),
    TypeError,
  );
});
