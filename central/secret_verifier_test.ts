import assert from "node:assert/strict";
import { SecretVerifier } from "./secret_verifier.ts";
import { hashSecret } from "./secrets.ts";

Deno.test("verifier: checks in a worker, the right secret only", async () => {
  const v = new SecretVerifier();
  try {
    const stored = await hashSecret("correct-horse-battery");
    assert.equal(await v.verify("correct-horse-battery", stored), true);
    assert.equal(await v.verify("wrong", stored), false);
    assert.equal(await v.verify("x", "not a hash"), false);
  } finally {
    v.close();
  }
});

Deno.test("verifier: beyond its queue a check is refused at once, and the loop never waits", async () => {
  const v = new SecretVerifier(4);
  try {
    const stored = await hashSecret("correct-horse-battery");
    let last = performance.now();
    let maxLag = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 5);
      last = now;
    }, 5);
    const checks = Array.from({ length: 6 }, () => v.verify("wrong", stored));
    assert.equal(checks.filter((c) => c === undefined).length, 2);
    assert.deepEqual(await Promise.all(checks.filter((c) => c !== undefined)), [
      false,
      false,
      false,
      false,
    ]);
    clearInterval(probe);
    console.log(`loop lag while 4 checks ran: ${maxLag.toFixed(0)} ms`);
    assert.equal(v.queued, 0);
  } finally {
    v.close();
  }
});
