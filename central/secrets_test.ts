import assert from "node:assert/strict";
import { hashSecret, sameText, verifySecret } from "./secrets.ts";

Deno.test("secrets are stored salted and hashed, and verify only with the right one", async () => {
  const a = await hashSecret("s3cret");
  const b = await hashSecret("s3cret");
  assert.notEqual(a, b, "salted: the same secret hashes differently");
  assert.ok(!a.includes("s3cret"));
  assert.ok(await verifySecret("s3cret", a));
  assert.ok(!(await verifySecret("s3cret!", a)));
  assert.ok(!(await verifySecret("s3cret", "garbage")));
});

Deno.test("sameText compares whole strings", () => {
  assert.ok(sameText("token", "token"));
  assert.ok(!sameText("token", "tokem"));
  assert.ok(!sameText("token", "token2"));
  assert.ok(!sameText("", "x"));
});
