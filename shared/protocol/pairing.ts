/**
 * Pairing of a monitor with its engine. Both hold a pairing secret; every health check carries
 * a proof, HMAC-SHA256 of the CP id under that secret, and an engine lets a check bind it to a
 * CP (or keep it) only with a valid proof. The proof names the CP: one read off the wire can
 * only ask for the CP the engine serves already, never make it serve another. It also covers
 * the CP key the check hands over (shared/protocol/record_mac.ts), so that a stranger who read
 * a proof cannot make the engine sign with a key of his.
 *
 * @module
 */

import type { CpKey } from "./record_mac.ts";

const encoder = new TextEncoder();

// What a proof is the HMAC of: the CP, and the key handed over with it if any.
function proven(cpId: string, cpKey: CpKey | undefined): Uint8Array<ArrayBuffer> {
  return encoder.encode(cpKey ? `${cpId}\n${cpKey.id}\n${cpKey.secret}` : cpId);
}

/** A new pairing secret: 32 random bytes, in hex. */
export function newPairingSecret(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The pairing secret's HMAC key. */
export function pairingKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** The proof a monitor of `cpId` sends with each check (handing over `cpKey`): hex HMAC-SHA256. */
export async function pairingProof(
  key: CryptoKey,
  cpId: string,
  cpKey?: CpKey,
): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, proven(cpId, cpKey))));
}

/**
 * Whether `proof` is the proof for `cpId` (and `cpKey`) under `key`; WebCrypto compares in
 * constant time.
 */
export async function validProof(
  key: CryptoKey,
  cpId: string,
  proof: string,
  cpKey?: CpKey,
): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/.test(proof)) return false;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(proof.slice(2 * i, 2 * i + 2), 16);
  return await crypto.subtle.verify("HMAC", key, bytes, proven(cpId, cpKey));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
