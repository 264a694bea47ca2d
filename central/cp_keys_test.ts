import assert from "node:assert/strict";
import { macKey, signedHeaders } from "../shared/protocol/record_mac.ts";
import { CpKeyRing } from "./cp_keys.ts";

const text = '{"type":"TELEMETRY","cp_id":"CP-01"}';

Deno.test("cp keys: each registration's key is numbered on, and the one before stays valid", async () => {
  const ring = new CpKeyRing();
  const first = ring.issue("CP-01");
  assert.equal(first.key.id, 1);
  assert.equal(first.previous, undefined);
  const second = ring.issue("CP-01");
  assert.equal(second.key.id, 2);
  assert.deepEqual(second.previous, first.key);
  const third = ring.issue("CP-01");
  const signed = async (k: typeof first.key) => await signedHeaders(macKey(k), text);
  assert.equal(await ring.refusal("CP-01", text, await signed(third.key)), undefined);
  assert.equal(await ring.refusal("CP-01", text, await signed(second.key)), undefined);
  assert.equal(await ring.refusal("CP-01", text, await signed(first.key)), "key 1 not valid");
});

Deno.test("cp keys: a key is valid for its own CP only", async () => {
  const ring = new CpKeyRing();
  const a = ring.issue("CP-A");
  ring.issue("CP-B");
  const headers = await signedHeaders(macKey(a.key), text);
  assert.equal(await ring.refusal("CP-B", text, headers), "wrong authentication code");
  assert.equal(await ring.refusal("CP-C", text, headers), "no key issued to this CP");
});

Deno.test("cp keys: a ring built from the stored keys checks what they signed", async () => {
  const before = new CpKeyRing();
  before.issue("CP-01");
  const stored = before.issue("CP-01");
  const after = new CpKeyRing([stored]);
  for (const k of [stored.key, stored.previous!]) {
    assert.equal(
      await after.refusal("CP-01", text, await signedHeaders(macKey(k), text)),
      undefined,
    );
  }
  assert.equal(after.issue("CP-01").key.id, 3, "numbering goes on after a restart");
});
