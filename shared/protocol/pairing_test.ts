import assert from "node:assert/strict";
import { newPairingSecret, pairingKey, pairingProof, validProof } from "./pairing.ts";
import { newCpKey } from "./record_mac.ts";

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

Deno.test("pairing: a proof covers the CP key it hands over", async () => {
  const key = await pairingKey(newPairingSecret());
  const cpKey = newCpKey(3);
  const proof = await pairingProof(key, "CP-01", cpKey);
  assert.equal(await validProof(key, "CP-01", proof, cpKey), true);
  assert.equal(await validProof(key, "CP-01", proof), false, "the key dropped");
  assert.equal(await validProof(key, "CP-01", proof, newCpKey(3)), false, "a stranger's key");
  assert.equal(await validProof(key, "CP-01", proof, { ...cpKey, id: 4 }), false, "renumbered");
  const bare = await pairingProof(key, "CP-01");
  assert.equal(await validProof(key, "CP-01", bare, cpKey), false, "a key added to a bare proof");
});
