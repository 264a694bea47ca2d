import assert from "node:assert/strict";
import { newPairingSecret, pairingKey, pairingProof, validProof } from "./pairing.ts";

Deno.test("pairing: a proof is valid for its CP under its secret only", async () => {
  const secret = newPairingSecret();
  assert.match(secret, /^[0-9a-f]{64}$/);
  const key = await pairingKey(secret);
  const proof = await pairingProof(key, "CP-01");
  assert.equal(await validProof(key, "CP-01", proof), true);
  assert.equal(await validProof(key, "EVIL-CP", proof), false, "another CP");
  const other = await pairingKey(newPairingSecret());
  assert.equal(await validProof(other, "CP-01", proof), false, "another secret");
  assert.equal(await validProof(key, "CP-01", "zz"), false, "not hex");
  assert.equal(await validProof(key, "CP-01", ""), false);
});
